// MiniMind's mock tools (trainer/train_agent.py; random_number and text_length from
// scripts/eval_toolcall.py): the same schemas, the same canned data, the same argument checks.
// calculate_math uses our own safe evaluator instead of Python's eval.
import { evaluate, pyStr } from './expression.js';
import { PyFloat } from './pyjson.js';
import { Tool, ToolRegistry, ToolSchema } from './registry.js';

const fn = (name: string, description: string, properties: Record<string, unknown>, required: string[]): ToolSchema => ({
  type: 'function',
  function: { name, description, parameters: { type: 'object', properties, required } },
});

const WEATHER: Record<string, [string, string]> = {
  北京: ['28°C', '晴'], 上海: ['15°C', '多云'], 广州: ['32°C', '闷热'], 深圳: ['30°C', '晴'], 杭州: ['22°C', '阴'], 成都: ['18°C', '小雨'],
  武汉: ['25°C', '多云'], 南京: ['20°C', '晴'], 西安: ['16°C', '大风'], 重庆: ['26°C', '阴'], Tokyo: ['12°C', '晴'], 'New York': ['8°C', '多云'],
  London: ['5°C', '小雨'], Paris: ['10°C', '阴'], Sydney: ['25°C', '晴朗'],
};
const TIMES: Record<string, string> = {
  'Asia/Shanghai': '2025-03-07 14:30:00', 'America/New_York': '2025-03-07 01:30:00', 'Europe/London': '2025-03-07 06:30:00',
  'Asia/Tokyo': '2025-03-07 15:30:00', 'Europe/Paris': '2025-03-07 07:30:00', 'Australia/Sydney': '2025-03-07 17:30:00',
};
const RATES: Record<string, number> = { 'USD/CNY': 7.21, 'EUR/CNY': 7.85, 'GBP/CNY': 9.12, 'JPY/CNY': 0.048, 'USD/EUR': 0.92, 'USD/GBP': 0.79, 'CNY/JPY': 20.83, 'AUD/CNY': 4.72 };
const TRANSLATIONS: Record<string, string> = {
  '你好世界|english': 'Hello World', 'Good morning|chinese': '早上好', '今天天气真好|english': 'The weather is nice today',
  'I love programming|chinese': '我喜欢编程', '机器学习很有趣|english': 'Machine learning is interesting', 'Happy birthday|chinese': '生日快乐',
};
const UNITS: Record<string, number> = {
  km_miles: 0.621371, miles_km: 1.60934, kg_pounds: 2.20462, pounds_kg: 0.453592, meters_feet: 3.28084, feet_meters: 0.3048,
  celsius_fahrenheit: 1.8, fahrenheit_celsius: 0.5556,
};

const str = (v: unknown, fallback = ''): string => (v === undefined || v === null ? fallback : String(v));
/** Python truthiness of an argument value. */
const truthy = (v: unknown): boolean => !(v === undefined || v === null || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0));

function pyRound(x: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

export const calculateMath: Tool = {
  schema: fn('calculate_math', '计算数学表达式', { expression: { type: 'string' } }, ['expression']),
  run: (a) => ({ result: pyStr(evaluate(str(a.expression, '0'))) }),
  checkArgs: (a) => truthy(a.expression),
};

export const unitConverter: Tool = {
  schema: fn('unit_converter', '单位换算', { value: { type: 'number' }, from_unit: { type: 'string' }, to_unit: { type: 'string' } }, ['value', 'from_unit', 'to_unit']),
  run: (a) => {
    const value = Number(a.value ?? 0);
    if (!Number.isFinite(value)) throw new Error(`could not convert string to float: '${str(a.value)}'`);
    return { result: new PyFloat(pyRound(value * (UNITS[`${str(a.from_unit).toLowerCase()}_${str(a.to_unit).toLowerCase()}`] ?? 1), 4)) };
  },
  checkArgs: (a) => a.value !== undefined && a.value !== null && truthy(a.from_unit) && truthy(a.to_unit),
};

export const getCurrentWeather: Tool = {
  schema: fn('get_current_weather', '获取天气', { location: { type: 'string' } }, ['location']),
  run: (a) => {
    const [temperature, condition] = WEATHER[str(a.location)] ?? ['22°C', '晴'];
    return { city: a.location ?? null, temperature, humidity: '65%', condition };
  },
  checkArgs: (a) => truthy(a.location),
};

export const getCurrentTime: Tool = {
  schema: fn('get_current_time', '获取时间', { timezone: { type: 'string', default: 'Asia/Shanghai' } }, []),
  run: (a) => {
    const tz = a.timezone === undefined ? 'Asia/Shanghai' : str(a.timezone);
    return { datetime: TIMES[tz] ?? '2025-03-07 14:30:00', timezone: a.timezone === undefined ? 'Asia/Shanghai' : a.timezone };
  },
  checkArgs: () => true,
};

export const getExchangeRate: Tool = {
  schema: fn('get_exchange_rate', '查询汇率', { from_currency: { type: 'string' }, to_currency: { type: 'string' } }, ['from_currency', 'to_currency']),
  run: (a) => ({ from: a.from_currency ?? null, to: a.to_currency ?? null, rate: new PyFloat(RATES[`${str(a.from_currency)}/${str(a.to_currency)}`] ?? 1.0) }),
  checkArgs: (a) => truthy(a.from_currency) && truthy(a.to_currency),
};

export const translateText: Tool = {
  schema: fn('translate_text', '翻译文本', { text: { type: 'string' }, target_language: { type: 'string' } }, ['text', 'target_language']),
  run: (a) => ({ translated_text: TRANSLATIONS[`${str(a.text)}|${str(a.target_language)}`] ?? str(a.text) }),
  checkArgs: (a) => truthy(a.text) && truthy(a.target_language),
};

export const randomNumber: Tool = {
  schema: fn('random_number', '生成指定范围内的随机数', { min: { type: 'integer', description: '最小值', default: 0 }, max: { type: 'integer', description: '最大值', default: 100 } }, []),
  run: (a) => {
    const lo = Math.trunc(Number(a.min ?? 0));
    const hi = Math.trunc(Number(a.max ?? 100));
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new Error(`empty range (${lo}, ${hi})`);
    return { result: lo + Math.floor(Math.random() * (hi - lo + 1)) };
  },
  checkArgs: () => true,
};

export const textLength: Tool = {
  schema: fn('text_length', '计算文本的字符数和单词数', { text: { type: 'string', description: '要统计的文本' } }, ['text']),
  run: (a) => {
    const t = str(a.text);
    return { characters: [...t].length, words: t.split(/\s+/).filter(Boolean).length };
  },
  checkArgs: (a) => truthy(a.text),
};

/** The six tools MiniMind's agent RL offers, in its order. */
export const AGENT_TOOLS: Tool[] = [calculateMath, unitConverter, getCurrentWeather, getCurrentTime, getExchangeRate, translateText];
/** Every mock tool (the agent six plus eval_toolcall's random_number and text_length). */
export const MOCK_TOOLS: Tool[] = [...AGENT_TOOLS, randomNumber, textLength];

export function mockToolRegistry(timeoutMs?: number): ToolRegistry {
  return new ToolRegistry(MOCK_TOOLS, timeoutMs);
}
