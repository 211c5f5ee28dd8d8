// Built-in data for `minimind quickstart`, generated (never downloaded) by a seeded generator,
// in English and Chinese. Two kinds of facts: capitals of 40 countries and single-digit sums.
//   pretrain text: every fact, stated in several phrasings, shuffled into short documents;
//   SFT: questions and answers about 75% of the facts, alone and in chats of two and three turns,
//   plus greetings and "who are you";
//   held-out eval: questions about the other 25% — facts the model saw only as plain text in
//   pretraining, never as a question — asked alone and as the later turns of chats. A sum is held
//   out together with its commuted twin (when "5 plus 3" is held out, "3 plus 5" is never asked
//   either), so a right answer cannot be the recall of a trained question with its operands swapped. Answering them shows that SFT taught
//   the format and the knowledge came from pretraining, which is the point of the two stages.
import { mulberry32 } from '../data/rng.js';

const COUNTRIES: [string, string, string, string][] = [
  ['France', 'Paris', '法国', '巴黎'], ['Germany', 'Berlin', '德国', '柏林'], ['Italy', 'Rome', '意大利', '罗马'],
  ['Spain', 'Madrid', '西班牙', '马德里'], ['Japan', 'Tokyo', '日本', '东京'], ['China', 'Beijing', '中国', '北京'],
  ['Russia', 'Moscow', '俄罗斯', '莫斯科'], ['Egypt', 'Cairo', '埃及', '开罗'], ['Canada', 'Ottawa', '加拿大', '渥太华'],
  ['Australia', 'Canberra', '澳大利亚', '堪培拉'], ['Brazil', 'Brasilia', '巴西', '巴西利亚'], ['India', 'New Delhi', '印度', '新德里'],
  ['Mexico', 'Mexico City', '墨西哥', '墨西哥城'], ['Greece', 'Athens', '希腊', '雅典'], ['Portugal', 'Lisbon', '葡萄牙', '里斯本'],
  ['Norway', 'Oslo', '挪威', '奥斯陆'], ['Sweden', 'Stockholm', '瑞典', '斯德哥尔摩'], ['Finland', 'Helsinki', '芬兰', '赫尔辛基'],
  ['Poland', 'Warsaw', '波兰', '华沙'], ['Austria', 'Vienna', '奥地利', '维也纳'], ['Ireland', 'Dublin', '爱尔兰', '都柏林'],
  ['Kenya', 'Nairobi', '肯尼亚', '内罗毕'], ['Peru', 'Lima', '秘鲁', '利马'], ['Chile', 'Santiago', '智利', '圣地亚哥'],
  ['Argentina', 'Buenos Aires', '阿根廷', '布宜诺斯艾利斯'], ['Thailand', 'Bangkok', '泰国', '曼谷'], ['Vietnam', 'Hanoi', '越南', '河内'],
  ['South Korea', 'Seoul', '韩国', '首尔'], ['Turkey', 'Ankara', '土耳其', '安卡拉'], ['Iran', 'Tehran', '伊朗', '德黑兰'],
  ['Cuba', 'Havana', '古巴', '哈瓦那'], ['Hungary', 'Budapest', '匈牙利', '布达佩斯'], ['Denmark', 'Copenhagen', '丹麦', '哥本哈根'],
  ['Belgium', 'Brussels', '比利时', '布鲁塞尔'], ['Netherlands', 'Amsterdam', '荷兰', '阿姆斯特丹'], ['Switzerland', 'Bern', '瑞士', '伯尔尼'],
  ['Indonesia', 'Jakarta', '印度尼西亚', '雅加达'], ['Philippines', 'Manila', '菲律宾', '马尼拉'], ['Nigeria', 'Abuja', '尼日利亚', '阿布贾'],
  ['Ukraine', 'Kyiv', '乌克兰', '基辅'],
];

export interface QaItem {
  kind: 'capital' | 'sum';
  lang: 'en' | 'zh';
  question: string;
  answer: string;
  /** The capital, or the sum, a correct answer states. */
  expected: string;
  /** Sums: the two operands, which a correct answer states too. */
  operands?: [number, number];
}

export interface QuickstartData {
  pretrainTexts: string[];
  sftConversations: { role: string; content: string }[][];
  /** Questions about facts the SFT data never asked (the held-out measure). */
  heldOut: QaItem[];
  /** Questions about facts SFT did ask (a sanity check). */
  seen: QaItem[];
  /**
   * Every held-out question once, asked as the 2nd or 3rd turn of a three-turn chat whose first
   * turn is a question SFT asked (with an odd count, the last chat has two turns): the
   * multi-turn measure.
   */
  heldOutChats: { opener: string; questions: QaItem[] }[];
}

interface Fact {
  kind: 'capital' | 'sum';
  statementsEn: string[];
  statementsZh: string[];
  qa: QaItem[];
}

function capitalFact([c, cap, zc, zcap]: [string, string, string, string]): Fact {
  return {
    kind: 'capital',
    // The two-sentence statements repeat the country's name, which teaches the model to copy a
    // name it has just read — what it needs to answer a question about a country in SFT.
    statementsEn: [
      `The capital of ${c} is ${cap}.`, `${cap} is the capital of ${c}.`, `The capital city of ${c} is ${cap}.`, `${c} has its capital in ${cap}.`,
      `${c} is a country. The capital of ${c} is ${cap}.`,
    ],
    statementsZh: [`${zc}的首都是${zcap}。`, `${zcap}是${zc}的首都。`, `${zc}的首都城市是${zcap}。`, `${zc}是一个国家。${zc}的首都是${zcap}。`],
    // The answer first names the country in the frame every country is asked about in SFT ("X is
    // a country."), then states the fact exactly as pretraining did, so the model can copy the
    // name and recall the capital it read.
    qa: [
      { kind: 'capital', lang: 'en', question: `What is the capital of ${c}?`, answer: `${c} is a country. The capital of ${c} is ${cap}.`, expected: cap },
      { kind: 'capital', lang: 'en', question: `Which city is the capital of ${c}?`, answer: `${c} is a country. The capital of ${c} is ${cap}.`, expected: cap },
      { kind: 'capital', lang: 'zh', question: `${zc}的首都是哪里？`, answer: `${zc}是一个国家。${zc}的首都是${zcap}。`, expected: zcap },
      { kind: 'capital', lang: 'zh', question: `请问${zc}的首都是哪个城市？`, answer: `${zc}是一个国家。${zc}的首都是${zcap}。`, expected: zcap },
    ],
  };
}

function sumFact(a: number, b: number): Fact {
  const s = String(a + b);
  return {
    kind: 'sum',
    statementsEn: [`${a} plus ${b} equals ${s}.`, `${a} + ${b} = ${s}.`, `If you add ${a} and ${b}, you get ${s}.`, `Take ${a} and ${b}. ${a} plus ${b} equals ${s}.`],
    statementsZh: [`${a}加${b}等于${s}。`, `${a}加上${b}的和是${s}。`, `取${a}和${b}。${a}加${b}等于${s}。`],
    qa: [
      { kind: 'sum', lang: 'en', question: `What is ${a} plus ${b}?`, answer: `${a} plus ${b} equals ${s}.`, expected: s, operands: [a, b] },
      { kind: 'sum', lang: 'en', question: `What is ${a} + ${b}?`, answer: `${a} plus ${b} equals ${s}.`, expected: s, operands: [a, b] },
      { kind: 'sum', lang: 'zh', question: `${a}加${b}等于多少？`, answer: `${a}加${b}等于${s}。`, expected: s, operands: [a, b] },
      { kind: 'sum', lang: 'zh', question: `请计算${a}加${b}。`, answer: `${a}加${b}等于${s}。`, expected: s, operands: [a, b] },
    ],
  };
}

const CHAT: [string, string][] = [
  ['Hello!', 'Hello! I am MiniMind, a small language model. Ask me about capitals or sums.'],
  ['Hi', 'Hello! I am MiniMind, a small language model. Ask me about capitals or sums.'],
  ['Who are you?', 'I am MiniMind, a small language model trained from scratch in TypeScript.'],
  ['What can you do?', 'I know the capitals of forty countries and can add small numbers.'],
  ['你好', '你好！我是MiniMind，一个小型语言模型。你可以问我首都或者加法。'],
  ['你是谁？', '我是MiniMind，一个用TypeScript从零训练的小型语言模型。'],
  ['你能做什么？', '我知道四十个国家的首都，也会做简单的加法。'],
  ['Thank you!', 'You are welcome!'],
  ['谢谢', '不客气！'],
];

const chatTurn = ([question, answer]: [string, string]) => ({ question, answer });

function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * Generates the whole quickstart corpus. The split between SFT facts and held-out facts is
 * drawn from `seed`; so is everything else, so the same seed always gives the same files.
 */
export function generateQuickstartData(seed = 42, heldOutFraction = 0.25): QuickstartData {
  const rand = mulberry32(seed);
  const capitals = shuffle(COUNTRIES.map(capitalFact), rand);
  // Sums are split by unordered pair: a+b and b+a are held out (or trained) together.
  const pairs: [number, number][] = [];
  for (let a = 1; a <= 9; a++) for (let b = a; b <= 9; b++) pairs.push([a, b]);
  shuffle(pairs, rand);
  const twins = ([a, b]: [number, number]) => (a === b ? [sumFact(a, b)] : [sumFact(a, b), sumFact(b, a)]);
  const nCapHeld = Math.round(capitals.length * heldOutFraction);
  const nPairsHeld = Math.round(pairs.length * heldOutFraction);
  const heldSums = pairs.slice(0, nPairsHeld).flatMap(twins);
  const trainSums = shuffle(pairs.slice(nPairsHeld).flatMap(twins), rand);
  const held = [...capitals.slice(0, nCapHeld), ...heldSums];
  const train = [...capitals.slice(nCapHeld), ...trainSums];
  const all = [...capitals, ...heldSums, ...trainSums];

  // Pretraining documents: 3–10 statements of random facts in one language (up to ~115 of the 128
  // tokens, so pretraining reaches the positions a three-turn chat uses); each statement of each
  // fact appears several times across the corpus so a tiny model can memorise it.
  const statements: { lang: 'en' | 'zh'; text: string }[] = [];
  for (const f of all) {
    for (let rep = 0; rep < 3; rep++) {
      for (const s of f.statementsEn) statements.push({ lang: 'en', text: s });
      for (const s of f.statementsZh) statements.push({ lang: 'zh', text: s });
    }
  }
  // Questions and answers about the *training* facts also appear as plain text (MiniMind's own
  // pretraining corpus is cleaned from SFT data). Mixing some Q&A into pretraining is what lets
  // a small model answer questions about facts it only ever read as statements — the held-out ones.
  for (const f of train) {
    for (const q of f.qa) statements.push({ lang: q.lang, text: `${q.question}${q.lang === 'en' ? ' ' : ''}${q.answer}` });
  }
  shuffle(statements, rand);
  const pretrainTexts: string[] = [];
  for (const lang of ['en', 'zh'] as const) {
    const pool = statements.filter((s) => s.lang === lang).map((s) => s.text);
    for (let i = 0; i < pool.length; ) {
      const n = 3 + Math.floor(rand() * 8);
      pretrainTexts.push(pool.slice(i, i + n).join(lang === 'en' ? ' ' : ''));
      i += n;
    }
  }
  shuffle(pretrainTexts, rand);

  // SFT: every question form of every training fact as a single turn, then as many conversations of
  // two and three turns built from the same questions (a greeting opens a quarter of them), so the
  // model learns to answer the latest question after a history of earlier ones — what `chat` sends
  // it. Half of them keep to one kind of fact in one language ("5加3" after "5加4"): the answer must
  // come from the latest question, not from similar ones before it.
  const sftConversations: { role: string; content: string }[][] = [];
  const trainQa = train.flatMap((f) => f.qa);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const turns = (qas: { question: string; answer: string }[]) => qas.flatMap((q) => [{ role: 'user', content: q.question }, { role: 'assistant', content: q.answer }]);
  for (const q of trainQa) sftConversations.push(turns([q]));
  for (let i = 0; i < trainQa.length; i++) {
    const n = 2 + Math.floor(rand() * 2);
    const qas: { question: string; answer: string }[] = rand() < 0.25 ? [chatTurn(pick(CHAT))] : [];
    const first = pick(trainQa);
    const pool = rand() < 0.5 ? trainQa.filter((q) => q.kind === first.kind && q.lang === first.lang) : trainQa;
    qas.push(first);
    while (qas.length < n) qas.push(pick(pool));
    sftConversations.push(turns(qas));
  }
  for (let rep = 0; rep < 6; rep++) for (const [q, a] of CHAT) sftConversations.push([{ role: 'user', content: q }, { role: 'assistant', content: a }]);
  // Every country's name appears in some SFT question ("tell me about Norway" → "Norway is a
  // country."), so the model learns to repeat any country name it is asked about — without ever
  // being asked the capital of a held-out country.
  for (let rep = 0; rep < 2; rep++) {
    for (const [c, , zc] of COUNTRIES) {
      sftConversations.push([{ role: 'user', content: `Tell me about ${c}.` }, { role: 'assistant', content: `${c} is a country.` }]);
      sftConversations.push([{ role: 'user', content: `介绍一下${zc}。` }, { role: 'assistant', content: `${zc}是一个国家。` }]);
    }
  }
  shuffle(sftConversations, rand);

  const heldOut = held.flatMap((f) => f.qa);
  const order = shuffle([...heldOut], rand);
  const heldOutChats: QuickstartData['heldOutChats'] = [];
  for (let i = 0; i < order.length; i += 2) heldOutChats.push({ opener: pick(trainQa).question, questions: order.slice(i, i + 2) });
  return { pretrainTexts, sftConversations, heldOut, seen: trainQa, heldOutChats };
}

const CAPITALS = { en: COUNTRIES.map((c) => c[1]), zh: COUNTRIES.map((c) => c[3]) };

/**
 * Whether a generated answer is right, graded on the whole answer: a sum must state both operands
 * and the result, in either order of the operands ("5 plus 3 equals 8"), and no other number; a
 * capital answer must name the right capital and no other one.
 */
export function isCorrect(item: QaItem, output: string): boolean {
  if (item.kind === 'sum') {
    const nums = (output.match(/\d+/g) ?? []).map(Number);
    const [a, b] = item.operands ?? [NaN, NaN];
    const s = Number(item.expected);
    return nums.length === 3 && nums[2] === s && ((nums[0] === a && nums[1] === b) || (nums[0] === b && nums[1] === a));
  }
  if (!output.includes(item.expected)) return false;
  // another capital in the answer (not merely a part of the expected one, as 巴西 of 巴西利亚) makes it wrong
  return !CAPITALS[item.lang].some((c) => c !== item.expected && !item.expected.includes(c) && output.includes(c));
}
