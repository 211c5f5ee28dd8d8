"""Rule-reward and tool fixtures from MiniMind HEAD's own Python (functions copied verbatim from
trainer/train_grpo.py and trainer/train_agent.py @ d65ef2c), plus Python's eval() and json.dumps
for the calculate_math tool. Writes test/fixtures/rl-rewards.json.

    python3 tools/gen_rl_reward_fixtures.py
"""
import json
import math
import re

# ---------------- verbatim from trainer/train_agent.py ----------------
def rep_penalty(text, n=3, cap=0.5):
    toks = re.findall(r"\w+|[^\w\s]", text.lower())
    grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
    return min(cap, (len(grams) - len(set(grams))) * cap * 2 / len(grams)) if grams else 0.0

TOOLS = [
    {"type": "function", "function": {"name": "calculate_math", "description": "计算数学表达式", "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}},
    {"type": "function", "function": {"name": "unit_converter", "description": "单位换算", "parameters": {"type": "object", "properties": {"value": {"type": "number"}, "from_unit": {"type": "string"}, "to_unit": {"type": "string"}}, "required": ["value", "from_unit", "to_unit"]}}},
    {"type": "function", "function": {"name": "get_current_weather", "description": "获取天气", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}},
    {"type": "function", "function": {"name": "get_current_time", "description": "获取时间", "parameters": {"type": "object", "properties": {"timezone": {"type": "string", "default": "Asia/Shanghai"}}, "required": []}}},
    {"type": "function", "function": {"name": "get_exchange_rate", "description": "查询汇率", "parameters": {"type": "object", "properties": {"from_currency": {"type": "string"}, "to_currency": {"type": "string"}}, "required": ["from_currency", "to_currency"]}}},
    {"type": "function", "function": {"name": "translate_text", "description": "翻译文本", "parameters": {"type": "object", "properties": {"text": {"type": "string"}, "target_language": {"type": "string"}}, "required": ["text", "target_language"]}}},
]
WEATHER_DATA = {"北京": ("28°C", "晴"), "上海": ("15°C", "多云"), "广州": ("32°C", "闷热"), "深圳": ("30°C", "晴"), "杭州": ("22°C", "阴"), "成都": ("18°C", "小雨"), "武汉": ("25°C", "多云"), "南京": ("20°C", "晴"), "西安": ("16°C", "大风"), "重庆": ("26°C", "阴"), "Tokyo": ("12°C", "晴"), "New York": ("8°C", "多云"), "London": ("5°C", "小雨"), "Paris": ("10°C", "阴"), "Sydney": ("25°C", "晴朗")}
TIME_DATA = {"Asia/Shanghai": "2025-03-07 14:30:00", "America/New_York": "2025-03-07 01:30:00", "Europe/London": "2025-03-07 06:30:00", "Asia/Tokyo": "2025-03-07 15:30:00", "Europe/Paris": "2025-03-07 07:30:00", "Australia/Sydney": "2025-03-07 17:30:00"}
EXCHANGE_DATA = {("USD", "CNY"): 7.21, ("EUR", "CNY"): 7.85, ("GBP", "CNY"): 9.12, ("JPY", "CNY"): 0.048, ("USD", "EUR"): 0.92, ("USD", "GBP"): 0.79, ("CNY", "JPY"): 20.83, ("AUD", "CNY"): 4.72}
TRANSLATE_DATA = {("你好世界", "english"): "Hello World", ("Good morning", "chinese"): "早上好", ("今天天气真好", "english"): "The weather is nice today", ("I love programming", "chinese"): "我喜欢编程", ("机器学习很有趣", "english"): "Machine learning is interesting", ("Happy birthday", "chinese"): "生日快乐"}
UNIT_DATA = {"km_miles": 0.621371, "miles_km": 1.60934, "kg_pounds": 2.20462, "pounds_kg": 0.453592, "meters_feet": 3.28084, "feet_meters": 0.3048, "celsius_fahrenheit": 1.8, "fahrenheit_celsius": 0.5556}
MOCK_RESULTS = {
    "calculate_math": lambda args: {"result": str(eval(str(args.get("expression", "0")).replace("^", "**").replace("×", "*").replace("÷", "/").replace("−", "-").replace("（", "(").replace("）", ")"), {"__builtins__": {}, "math": math}))},
    "unit_converter": lambda args: {"result": round(float(args.get("value", 0)) * UNIT_DATA.get(f"{args.get('from_unit', '').lower()}_{args.get('to_unit', '').lower()}", 1), 4)},
    "get_current_weather": lambda args: (lambda w: {"city": args.get("location"), "temperature": w[0], "humidity": "65%", "condition": w[1]})(WEATHER_DATA.get(args.get("location"), ("22°C", "晴"))),
    "get_current_time": lambda args: {"datetime": TIME_DATA.get(args.get("timezone", "Asia/Shanghai"), "2025-03-07 14:30:00"), "timezone": args.get("timezone", "Asia/Shanghai")},
    "get_exchange_rate": lambda args: {"from": args.get("from_currency"), "to": args.get("to_currency"), "rate": EXCHANGE_DATA.get((args.get("from_currency"), args.get("to_currency")), 1.0)},
    "translate_text": lambda args: {"translated_text": TRANSLATE_DATA.get((args.get("text"), args.get("target_language")), args.get("text", ""))},
}
CHECK_ARGS = {
    "calculate_math": lambda a: bool(a.get("expression")),
    "unit_converter": lambda a: a.get("value") is not None and a.get("from_unit") and a.get("to_unit"),
    "get_current_weather": lambda a: bool(a.get("location")),
    "get_current_time": lambda a: True,
    "get_exchange_rate": lambda a: bool(a.get("from_currency")) and bool(a.get("to_currency")),
    "translate_text": lambda a: bool(a.get("text")) and bool(a.get("target_language")),
}
def parse_tool_calls(text):
    calls = []
    for m in re.findall(r'<tool_call>(.*?)</tool_call>', text, re.DOTALL):
        try: calls.append(json.loads(m.strip()))
        except: pass
    return calls

def validate_gt_in_text(text, gt_list):
    text, text_num = str(text), str(text).replace(',', '')
    nums = [float(x) for x in re.findall(r'(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.])', text_num)]
    return {g for g in gt_list if ((s := str(g).strip()) and s.lower() in text.lower()) or (re.fullmatch(r'[-+]?\d+(?:\.\d+)?', str(g).strip().replace(',', '')) and any(abs(float(str(g).strip().replace(',', '')) - n) < 1e-6 for n in nums))}

def agent_reward(completions, gt_batch, tools_batch, num_gen, turn_outputs_batch=None, unfinished_batch=None):
    # calculate_rewards without the reward model (reward_model=None), returning floats
    rewards = [0.0] * len(completions)
    for idx, response in enumerate(completions):
        reward, answer = 0.0, response
        sample_idx = idx // num_gen
        tools = tools_batch[sample_idx]
        turn_outputs = turn_outputs_batch[idx] if turn_outputs_batch is not None else [response]
        unfinished = unfinished_batch[idx] if unfinished_batch is not None else False
        turn_answers = [turn.split('</think>', 1)[-1].strip() if '</think>' in turn else turn.strip() for turn in turn_outputs]
        answer = turn_answers[-1] if turn_answers else response.strip()
        valid_names = {t['function']['name'] for t in tools} if tools else set()
        tool_calls = []
        for turn_answer in turn_answers: tool_calls.extend(parse_tool_calls(turn_answer))
        reward -= 0.5 * sum(abs(turn.count('<tool_call>') - turn.count('</tool_call>')) for turn in turn_answers)
        if not tool_calls:
            reward += 0.5 if 5 <= len(response.strip()) <= 800 else -0.5
            if '</think>' in response:
                think, answer = response.split('</think>', 1)
                reward += 1.0 if 20 <= len(think.strip()) <= 300 else -0.5
                reward += 0.25 if response.count('</think>') == 1 else -0.25
                answer = answer.strip()
            reward -= rep_penalty(answer)
            rewards[idx] = max(min(reward, 3.0), -3.0)
        else:
            gt = gt_batch[sample_idx]
            valid_call_count = 0
            for tool_call in tool_calls:
                name, raw = tool_call.get("name", ""), tool_call.get("arguments", {})
                if isinstance(raw, str):
                    try: raw = json.loads(raw)
                    except: raw = {}
                check = CHECK_ARGS.get(name)
                valid_call_count += int(bool(name in valid_names and check and check(raw)))
            tool_gap = abs(valid_call_count - len(gt)) + max(0, len(tool_calls) - valid_call_count)
            reward += 0.5 if tool_gap == 0 else -0.5 * tool_gap
            final_text = "" if unfinished else (answer.split('</tool_call>')[-1] if '</tool_call>' in answer else answer)
            verified = validate_gt_in_text(final_text, gt) if gt else set()
            if gt: reward += 2.5 * len(verified) / len(gt)
            if unfinished: reward -= 0.5
            reward -= rep_penalty(final_text if final_text else answer)
            rewards[idx] = max(min(reward, 3.0), -3.0)
    return rewards

# ---------------- verbatim from trainer/train_grpo.py (rule part of calculate_rewards) ----------------
def grpo_rule_reward(response):
    reward = 0.0
    answer = response
    reward += 0.5 if 20 <= len(response.strip()) <= 800 else -0.5
    if '</think>' in response:
        thinking_content, answer_content = response.split('</think>', 1)
        reward += 1.0 if 20 <= len(thinking_content.strip()) <= 300 else -0.5
        reward += 0.25 if response.count('</think>') == 1 else -0.25
        answer = answer_content.strip()
    reward -= rep_penalty(answer)
    return reward

# ---------------- cases ----------------
rep_texts = [
    "", "one two", "a b c", "the cat sat on the mat", "the cat the cat the cat the cat",
    "Hello, hello, HELLO, hello!", "我爱北京天安门，我爱北京天安门，我爱北京天安门", "1 + 1 = 2 . 1 + 1 = 2",
    "word_with_underscore and word_with_underscore and word_with_underscore", "数字١٢٣ and ½ fractions ½ fractions ½ fractions",
    "é è ê é è ê é è ê",
]
long_think = "Let me think about this carefully step by step."
grpo_texts = [
    "short", "This answer has exactly enough characters.", "x" * 801, "x" * 800, " " * 30 + "padded but short" + " " * 30,
    f"{long_think}</think>The answer is 42, clearly.", f"tiny</think>The answer is 42, clearly.",
    f"{long_think}</think>first</think>second answer here", f"<think>\n{long_think}\n</think>\n\n答案是四十二。答案是四十二。答案是四十二。",
    "ok ok ok ok ok ok ok ok ok ok ok ok ok ok", "中文的回答，长度刚好二十个字符吗？我们来数一数吧。",
    "😀" * 20, "😀" * 19,
]
gt_cases = [
    ("The result is 9,472.", ["9472"]), ("The result is 9472.0", ["9472"]), ("answer: -3.5", ["-3.5"]), ("Paris is the capital", ["paris"]),
    ("x=12.000001", ["12"]), ("x=12.0000001", ["12"]), ("v1.5 version", ["1.5"]), ("a12b", ["12"]), ("12 and 13", ["12", "13", "14"]),
    ("1,234,567 people", ["1234567"]), ("", ["1"]), ("温度是28°C", ["28"]), ("price 3.50", ["3.5"]), ("total 7", ["  7  "]),
]
tool_call = lambda name, args: f'<tool_call>\n{json.dumps({"name": name, "arguments": args}, ensure_ascii=False)}\n</tool_call>'
math_tools = [TOOLS[0], TOOLS[3]]
agent_cases = [
    # (turns, gt, tools, unfinished)
    ([tool_call("calculate_math", {"expression": "256*37"}), "256 乘以 37 等于 9472。"], ["9472"], math_tools, False),
    ([tool_call("calculate_math", {"expression": "256*37"}), "The answer is 9,472."], ["9472"], math_tools, False),
    ([tool_call("calculate_math", {"expression": "256*37"}), "I do not know."], ["9472"], math_tools, False),
    ([tool_call("calculate_math", {"expression": ""}), "9472"], ["9472"], math_tools, False),
    ([tool_call("unit_converter", {"value": 1, "from_unit": "km", "to_unit": "miles"}), "9472"], ["9472"], math_tools, False),
    ([tool_call("calculate_math", {"expression": "1+1"}) + tool_call("calculate_math", {"expression": "2+2"}), "2 and 4"], ["2", "4"], math_tools, False),
    ([tool_call("calculate_math", {"expression": "1+1"}), tool_call("calculate_math", {"expression": "1+1"}), tool_call("calculate_math", {"expression": "1+1"})], ["2"], math_tools, True),
    (["<tool_call>\n{\"name\": \"calculate_math\", \"arguments\": {\"expression\": \"3*3\"}}", "9"], ["9"], math_tools, False),
    (["The answer is 9472."], ["9472"], math_tools, False),
    (["Hi"], ["9472"], math_tools, False),
    ([f"{long_think}</think>The answer is 9472."], ["9472"], math_tools, False),
    (["<think>\nok\n</think>\n\n" + tool_call("calculate_math", {"expression": "2^10"}), "1024 it is </tool_call> 1024"], ["1024"], math_tools, False),
    ([tool_call("calculate_math", "{\"expression\": \"5*5\"}"), "25"], ["25"], math_tools, False),
    ([tool_call("calculate_math", {"expression": "5*5"}), "25 25 25 25 25 25 25 25 25"], ["25"], math_tools, False),
]
agent_expected = [agent_reward([c[0][-1]], [c[1]], [c[2]], 1, [c[0]], [c[3]])[0] for c in agent_cases]

calc_exprs = ["256*37", "256 × 37", "10/4", "6/2", "2**10", "2^10", "2**-1", "7//2", "-7//2", "7%3", "-7%3", "7.5%2", "-2**2", "(1+2)*3",
              "math.sqrt(144)", "math.pi*2", "1e16", "1e16+1", "0.1+0.2", "1/3", "100000000000000000000*3", "2**100", "1.5e-5*1",
              "（1＋2）".replace("＋", "+"), "3−1", "8÷4", "math.log(8, 2)", "math.floor(3.7)", "math.factorial(10)", "1_000+1", ".5*4",
              "123456789*987654321", "1/0", "2**0.5", "10**-5", "12345678.9*10", "-0.0", "math.e", "1e300*1e10"]
calc = []
for e in calc_exprs:
    try:
        calc.append({"expr": e, "ok": True, "json": json.dumps(MOCK_RESULTS["calculate_math"]({"expression": e}), ensure_ascii=False)})
    except Exception as ex:
        calc.append({"expr": e, "ok": False, "error": type(ex).__name__})
mock_calls = [("unit_converter", {"value": 100, "from_unit": "km", "to_unit": "miles"}), ("unit_converter", {"value": 3, "from_unit": "x", "to_unit": "y"}),
              ("get_current_weather", {"location": "北京"}), ("get_current_weather", {"location": "Nowhere"}), ("get_current_time", {}),
              ("get_current_time", {"timezone": "Asia/Tokyo"}), ("get_exchange_rate", {"from_currency": "USD", "to_currency": "CNY"}),
              ("get_exchange_rate", {"from_currency": "ABC", "to_currency": "CNY"}), ("translate_text", {"text": "你好世界", "target_language": "english"}),
              ("translate_text", {"text": "unknown", "target_language": "french"})]
mocks = [{"name": n, "args": a, "json": json.dumps(MOCK_RESULTS[n](a), ensure_ascii=False), "check": bool(CHECK_ARGS[n](a))} for n, a in mock_calls]

out = {
    "rep_penalty": [{"text": t, "value": rep_penalty(t)} for t in rep_texts],
    "grpo_rule": [{"text": t, "value": grpo_rule_reward(t)} for t in grpo_texts],
    "gt": [{"text": t, "gt": g, "found": sorted(validate_gt_in_text(t, g))} for t, g in gt_cases],
    "agent": [{"turns": c[0], "gt": c[1], "tools": [t["function"]["name"] for t in c[2]], "unfinished": c[3], "value": v} for c, v in zip(agent_cases, agent_expected)],
    "calc": calc,
    "mocks": mocks,
    "tool_schemas": TOOLS,
}
with open("test/fixtures/rl-rewards.json", "w") as f:
    json.dump(out, f, ensure_ascii=False, indent=0)
print("wrote test/fixtures/rl-rewards.json")
