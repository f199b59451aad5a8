#include "fake_upstream_demo.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>

namespace chatd::fake {

namespace {

// CJK ideographs and punctuation start with lead bytes 0xE3–0xE9 in UTF-8.
bool has_cjk(std::string_view s) {
    for (unsigned char ch : s)
        if (ch >= 0xE3 && ch <= 0xE9) return true;
    return false;
}

std::uint32_t fnv1a(std::string_view s) {
    std::uint32_t h = 2166136261u;
    for (unsigned char ch : s) h = (h ^ ch) * 16777619u;
    return h;
}

// The question as the answer quotes it: one line, at most ~60 bytes, never cutting a character.
std::string topic_of(std::string_view question) {
    std::string out;
    for (char ch : question) {
        if (out.size() >= 60 && (static_cast<unsigned char>(ch) & 0xC0) != 0x80) {
            out += "…";
            break;
        }
        out += ch == '\n' || ch == '\r' ? ' ' : ch;
    }
    return out.empty() ? "…" : out;
}

constexpr std::array<std::string_view, 4> chinese = {
    R"(> 演示模式：这是内置的示例回答，不是真实模型的输出。

关于「{topic}」，可以从三个方面来看：

| 方面 | 要点 | 建议 |
|---|---|---|
| 目标 | 先想清楚要解决什么问题 | 写下一句话的目标 |
| 方法 | 拆成可以执行的小步骤 | 每步不超过一小时 |
| 复盘 | 记录结果和偏差 | 每周回顾一次 |

**小结**：目标清楚、步骤够小、及时复盘，大多数事情都会顺利推进。)",
    R"(> 演示模式：这是内置的示例回答，不是真实模型的输出。

「{topic}」—— 下面用一段 Python 代码演示思路：

```python
def summarize(items):
    """统计每个元素出现的次数，按次数从多到少排列。"""
    counts = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return sorted(counts.items(), key=lambda kv: kv[1], reverse=True)

print(summarize(["苹果", "香蕉", "苹果"]))  # [('苹果', 2), ('香蕉', 1)]
```

1. 用字典记录出现次数；
2. 按次数排序；
3. 时间复杂度为 $O(n \log n)$。)",
    R"(> 演示模式：这是内置的示例回答，不是真实模型的输出。

谈到「{topic}」，不妨先看一个经典公式。等差数列前 $n$ 项的和：

$$
S_n = \sum_{k=1}^{n} k = \frac{n(n+1)}{2}
$$

例如 $n = 100$ 时，$S_{100} = 5050$。高斯小时候就是这样快速算出答案的：把首尾两两配对，每对的和都是 $101$，一共 $50$ 对。)",
    R"(> 演示模式：这是内置的示例回答，不是真实模型的输出。

## 关于「{topic}」

- **第一步**：收集资料，弄清背景；
- **第二步**：列出几种可选方案，比较优缺点；
- **第三步**：选定一种，先小范围试一试。

> 提示：接入真实的 API Key 之后，这里会显示模型的真实回答。可以用 `chatctl keys add` 添加 Key。)",
};

constexpr std::array<std::string_view, 4> english = {
    R"(> Demo mode: a built-in sample answer, not a real model's output.

About "{topic}", three angles help:

| Aspect | Key point | Try this |
|---|---|---|
| Goal | Know what problem you are solving | Write it down in one sentence |
| Method | Break it into small, doable steps | No step longer than an hour |
| Review | Record results and surprises | Look back once a week |

**In short:** a clear goal, small steps and regular reviews move most things forward.)",
    R"(> Demo mode: a built-in sample answer, not a real model's output.

"{topic}" — here is the idea as a few lines of Python:

```python
def summarize(items):
    """Count each item and list them, most frequent first."""
    counts = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return sorted(counts.items(), key=lambda kv: kv[1], reverse=True)

print(summarize(["apple", "banana", "apple"]))  # [('apple', 2), ('banana', 1)]
```

1. Count occurrences in a dictionary;
2. sort by count;
3. the whole thing runs in $O(n \log n)$.)",
    R"(> Demo mode: a built-in sample answer, not a real model's output.

Speaking of "{topic}", here is a classic formula first — the sum of the first $n$ integers:

$$
S_n = \sum_{k=1}^{n} k = \frac{n(n+1)}{2}
$$

For $n = 100$ that gives $S_{100} = 5050$: pair the first and last numbers, each pair sums to $101$, and there are $50$ pairs.)",
    R"(> Demo mode: a built-in sample answer, not a real model's output.

## On "{topic}"

- **First**, gather what you know and the context;
- **then** list a few options and weigh them;
- **finally** pick one and try it on a small scale.

> Tip: once a real API key is added (`chatctl keys add`), real answers appear here.)",
};

// The answer a question's words ask for (a table, code, math), else one picked by its text.
std::size_t pick(std::string_view q) {
    auto any = [q](std::initializer_list<std::string_view> words) {
        for (auto w : words)
            if (q.find(w) != std::string_view::npos) return true;
        return false;
    };
    if (any({"表", "对比", "比较", "table", "compare", "Compare"})) return 0;
    if (any({"代码", "程序", "Python", "python", "code", "Code", "function"})) return 1;
    if (any({"数学", "公式", "math", "Math", "formula", "sum"})) return 2;
    return fnv1a(q) % 4;
}

}  // namespace

std::string demo_answer(std::string_view question) {
    const auto& answers = has_cjk(question) ? chinese : english;
    std::string text(answers[pick(question)]);
    auto at = text.find("{topic}");
    text.replace(at, 7, topic_of(question));
    return text;
}

}  // namespace chatd::fake
