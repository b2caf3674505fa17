// Jinja interpreter: each construct against the output Python's Jinja2 (configured as
// transformers does) gives for the same template and variables, plus errors and limits.
#include <string>

#include <gtest/gtest.h>

#include "tokenizer/jinja_template.h"

namespace dsinfer::tokenizer {
namespace {

struct Case {
  const char* tmpl;
  const char* vars;  // JSON object
  const char* expected;
};

StatusOr<std::string> Render(std::string_view tmpl, std::string_view vars = "{}",
                             const JinjaLimits& limits = {}) {
  DSI_ASSIGN_OR_RETURN(JinjaTemplate t, JinjaTemplate::Parse(tmpl, limits));
  return t.Render(nlohmann::ordered_json::parse(vars));
}

// Expected strings were produced by jinja2 3.1 with trim_blocks, lstrip_blocks and
// transformers' tojson.
constexpr Case kCases[] = {
    // Literals, output and Python str().
    {"{{ 'a' }}{{ \"b\" }}{{ 1 }}{{ 1.5 }}{{ true }}{{ none }}", "{}", "ab11.5TrueNone"},
    {"{{ 1e-5 }} {{ 1e16 }} {{ 0.1 + 0.2 }} {{ 7 / 2 }} {{ 4 / 2 }}", "{}",
     "1e-05 1e+16 0.30000000000000004 3.5 2.0"},
    {"{{ [1, 'a', None, True, {'k': \"it's\"}] }}", "{}", "[1, 'a', None, True, {'k': \"it's\"}]"},
    {"{{ 'x\\ny\\t\\u00e9\\x41' }}", "{}",
     "x\ny\t\xc3\xa9"
     "A"},
    // Arithmetic and operators.
    {"{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 'ab' * 2 }} {{ 1 + 2 * 3 }}", "{}",
     "3 -4 2 1024 abab 7"},
    {"{{ 'a' ~ 1 ~ none ~ u }}{{ 'x' + 'y' }}{{ [1] + [2] }}", "{}", "a1Nonexy[1, 2]"},
    {"{{ 1 < 2 < 3 }} {{ 'a' in 'cat' }} {{ 2 not in [1] }} {{ 'k' in {'k': 1} }} {{ 1 == 1.0 }}",
     "{}", "True True True True True"},
    {"{{ not 0 and 'x' or 'y' }} {{ 0 or '' }}|{{ 'a' if false else 'b' }}{{ 'c' if false }}", "{}",
     "x |b"},
    // Attribute and item access, slicing.
    {"{{ m.role }} {{ m['content'] }} {{ m.missing }}|{{ l[-1] }} {{ l[5] }}|{{ n.x }}",
     R"({"m": {"role": "user", "content": "hi"}, "l": [1, 2, 3], "n": null})", "user hi |3 |"},
    {"{{ 'héllo'[1] }} {{ 'abcdef'[1:4] }} {{ 'abcdef'[::-2] }} {{ l[:-1] }} {{ l[::-1] }}",
     R"({"l": [1, 2, 3]})", "é bcd fdb [1, 2] [3, 2, 1]"},
    // if / elif / else.
    {"{% if x > 2 %}big{% elif x > 1 %}mid{% else %}small{% endif %}", R"({"x": 2})", "mid"},
    // for: loop variables, else, filter, unpacking, break/continue.
    {"{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
     "{{ loop.length }}{{ loop.revindex }};{% endfor %}",
     R"({"l": ["a", "b"]})", "10TrueFalse22;21FalseTrue21;"},
    {"{% for x in [] %}x{% else %}empty{% endfor %}", "{}", "empty"},
    {"{% for x in l if x is odd %}{{ x }}{{ loop.length }},{% endfor %}", R"({"l": [1,2,3,4,5]})",
     "13,33,53,"},
    {"{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", R"({"d": {"b": 1, "a": 2}})",
     "b=1;a=2;"},
    {"{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}"
     "{% break %}{% endif %}{{ x }}{% endfor %}",
     "{}", "013"},
    // Scoping: a set inside a loop does not leak; namespace carries state out.
    {"{% set x = 5 %}{% for i in [1,2] %}[{{ x }}]{% set x = i %}{% endfor %}({{ x }})", "{}",
     "[5][5](5)"},
    {"{% set ns = namespace(a=1) %}{% for i in [1,2] %}{% set ns.a = ns.a + i %}{% endfor %}"
     "{{ ns.a }}",
     "{}", "4"},
    {"{% if true %}{% set y = 3 %}{% endif %}{{ y }}", "{}", "3"},
    {"{% set a, b = [1, 2] %}{{ b }}{{ a }}{% set c %}block {{ a }}{% endset %}{{ c }}", "{}",
     "21block 1"},
    // Macros and call blocks.
    {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
     "{{ greet('Bo') }} {{ greet('Al', punct='?') }}",
     "{}", "Hi Bo! Hi Al?"},
    {"{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}in{% endcall %}", "{}",
     "<in>"},
    // raw, comments, with.
    {"{% raw %}{{ x }}{% endraw %}{# gone #}{% with a = 2 %}{{ a }}{% endwith %}", "{}",
     "{{ x }}2"},
    // Whitespace: trim_blocks, lstrip_blocks, - markers, + markers, trailing newline.
    {"  {{ 'x' }}\n  {% if true %}\n  y\n  {% endif %}\n", "{}", "  x\n  y\n"},
    {"a  {%- if true -%}  b  {%- endif -%}  c", "{}", "abc"},
    {"a\n  {%+ if true %}b{% endif +%}\nc", "{}", "a\n  b\nc"},
    {"{{ 'a' -}}\n\n  {{- 'b' }}\n{# c #}\n  d\n\n", "{}", "ab\n  d\n"},
    // Tests.
    {"{{ u is defined }}{{ u is undefined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}"
     "{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is sequence }}{{ true is boolean }}"
     "{{ false is false }}{{ 3 is eq 3 }}{{ 1 is not string }}{{ 4 is divisibleby(2) }}",
     "{}", "FalseTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrue"},
    // Filters.
    {"{{ '  a b  ' | trim }}|{{ 'abc' | length }}|{{ [1,2] | count }}|{{ 'Hi' | upper }}"
     "{{ 'Hi' | lower }}|{{ 'hELLO world' | capitalize }}|{{ 'hello big-world' | title }}",
     "{}", "a b|3|2|HIhi|Hello world|Hello Big-World"},
    {"{{ 'aXbX' | replace('X', '-') }}|{{ l | join(', ') }}|{{ l | first }}{{ l | last }}"
     "|{{ 'ab' | list }}|{{ u | default('dflt') }}|{{ '' | default('e', true) }}|{{ '42' | int + 1 "
     "}}"
     "|{{ 3 | string ~ 'x' }}",
     R"({"l": [1, 2, 3]})", "a-b-|1, 2, 3|13|['a', 'b']|dflt|e|43|3x"},
    {"{{ d | items | list }}|{{ d | tojson }}|{{ l | map(attribute='n') | join }}"
     "|{{ l | selectattr('n', 'equalto', 'b') | list | length }}"
     "|{{ l | rejectattr('n', 'eq', 'b') | map(attribute='n') | list }}",
     R"({"d": {"a": 1}, "l": [{"n": "a"}, {"n": "b"}]})", "[('a', 1)]|{\"a\": 1}|ab|1|['a']"},
    {"{{ x | tojson }}|{{ x | tojson(indent=2) }}",
     R"({"x": {"s": "é\n\"<>&", "f": 2.0, "l": [], "n": null, "o": {"z": [1]}}})",
     "{\"s\": \"é\\n\\\"<>&\", \"f\": 2.0, \"l\": [], \"n\": null, \"o\": {\"z\": [1]}}|{\n"
     "  \"s\": \"é\\n\\\"<>&\",\n  \"f\": 2.0,\n  \"l\": [],\n  \"n\": null,\n  \"o\": {\n"
     "    \"z\": [\n      1\n    ]\n  }\n}"},
    {"{{ '<a & \"b\">' | escape }}|{{ 'x' | safe }}|{{ ['b', 'a'] | sort | join }}"
     "|{{ [3, 1] | max }}{{ [3, 1] | min }}|{{ [1, 1, 2] | unique | list }}|{{ [1, 2] | reverse | "
     "list }}",
     "{}", "&lt;a &amp; &#34;b&#34;&gt;|x|ab|31|[1, 2]|[2, 1]"},
    {"{{ builtin | reject('equalto', 'code') | join(', ') }}", R"({"builtin": ["code", "search"]})",
     "search"},
    // Methods.
    {"{{ ' a '.strip() }}|{{ 'xxaxx'.lstrip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() "
     "}}"
     "|{{ 'a</think>b</think>c'.split('</think>')[-1] }}|{{ 'abc'.startswith('ab') }}"
     "{{ 'abc'.endswith(('x', 'c')) }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ 'aaa'.replace('a', "
     "'b', 2) }}",
     "{}", "a|axx|['a', 'b', '', 'c']|['a', 'b']|c|TrueTrue|ABab|bba"},
    {"{{ d.get('a') }}{{ d.get('z', 'dflt') }}{{ d.get('z') }}|{{ d.keys() | list }}"
     "|{{ d.values() | list }}",
     R"({"d": {"a": 1}})", "1dfltNone|['a']|[1]"},
    // Globals.
    {"{{ range(3) | list }}{{ range(1, 7, 2) | list }}|{{ dict(a=1) }}", "{}",
     "[0, 1, 2][1, 3, 5]|{'a': 1}"},
};

TEST(JinjaTest, ConstructsRenderAsJinja2Does) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.tmpl);
    const StatusOr<std::string> out = Render(c.tmpl, c.vars);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, c.expected);
  }
}

TEST(JinjaTest, GenerationTagRendersItsBody) {
  const StatusOr<std::string> out = Render("{% generation %}answer{% endgeneration %}");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "answer");
}

TEST(JinjaTest, StrftimeNowFormatsTheDate) {
  const StatusOr<std::string> out = Render("{{ strftime_now('%Y') | length }}");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "4");
}

struct ErrorCase {
  const char* tmpl;
  StatusCode code;
  const char* message_part;
};

constexpr ErrorCase kErrors[] = {
    {"line1\n{{ raise_exception('Roles must alternate') }}", StatusCode::kInvalidArgument,
     "template line 2: raise_exception: Roles must alternate"},
    {"{{ u.attr }}", StatusCode::kInvalidArgument, "'u' is undefined"},
    {"{{ m.a.b }}", StatusCode::kInvalidArgument, "has no attribute 'a'"},
    {"{{ u + 1 }}", StatusCode::kInvalidArgument, "'u' is undefined"},
    {"{{ 'a' + none }}", StatusCode::kInvalidArgument, "unsupported operand"},
    {"\n\n{% include 'x.jinja' %}", StatusCode::kUnimplemented, "template line 3: the {% include"},
    {"{{ x | groupby('a') }}", StatusCode::kUnimplemented, "'groupby' filter is not supported"},
    {"{{ x | nosuchfilter }}", StatusCode::kInvalidArgument, "no filter named 'nosuchfilter'"},
    {"{{ x is nosuchtest }}", StatusCode::kInvalidArgument, "no test named 'nosuchtest'"},
    {"{% for x in y %}", StatusCode::kInvalidArgument, "unexpected end of template"},
    {"{{ 'abc' ", StatusCode::kInvalidArgument, "unclosed"},
    {"{% frobnicate %}", StatusCode::kInvalidArgument, "unknown tag 'frobnicate'"},
    {"{% break %}", StatusCode::kInvalidArgument, "outside a for loop"},
    {"{{ '{}'.format(1) }}", StatusCode::kUnimplemented, "format"},
    {"{{ x is defined if true }}", StatusCode::kInvalidArgument, "expected end of print"},
    {"{% set s = 'x' %}{% set s.a = 1 %}", StatusCode::kInvalidArgument, "non-namespace"},
    {"{{ 1 // 0 }}", StatusCode::kInvalidArgument, "by zero"},
};

TEST(JinjaTest, ErrorsNameTheCauseAndLine) {
  for (const ErrorCase& c : kErrors) {
    SCOPED_TRACE(c.tmpl);
    const StatusOr<std::string> out = Render(c.tmpl, R"({"m": {}})");
    ASSERT_FALSE(out.ok()) << "rendered: " << *out;
    EXPECT_EQ(out.status().code(), c.code) << out.status().ToString();
    EXPECT_NE(out.status().message().find(c.message_part), std::string_view::npos)
        << out.status().ToString();
  }
}

TEST(JinjaTest, DeepNestingIsRefusedNotACrash) {
  std::string deep_expr = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  StatusOr<std::string> out = Render(deep_expr);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);

  std::string deep_blocks;
  for (int i = 0; i < 5000; ++i) deep_blocks += "{% if true %}";
  out = Render(deep_blocks);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);

  std::string nots = "{{ ";
  for (int i = 0; i < 50000; ++i) nots += "not ";
  out = Render(nots + "x }}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
}

TEST(JinjaTest, HugeLoopsAndOutputsHitLimits) {
  JinjaLimits limits;
  limits.render.max_loop_iterations = 10000;
  limits.render.max_output_bytes = 1 << 20;
  StatusOr<std::string> out = Render(
      "{% for i in range(100) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "{}", limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(out.status().message().find("loop iterations"), std::string_view::npos);

  out = Render("{% for i in range(9000) %}{{ 'x' * 1000 }}{% endfor %}", "{}", limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);

  out = Render("{{ 'x' * 1000000000000 }}", "{}", limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);

  out = Render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "{}", limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
}

// Found by fuzz/jinja_fuzzer.cc: a namespace holding itself leaked and printing it overflowed
// the stack; values nested through namespaces or chained set statements had no bound.
TEST(JinjaTest, NamespaceCyclesAndDeepValuesAreSafe) {
  // Python: <Namespace {'self': <Namespace {...}>}>
  EXPECT_EQ(*Render("{% set ns = namespace(a=1) %}{% set ns.self = ns %}{{ ns }}"),
            "<Namespace {'a': 1, 'self': <Namespace {...}>}>");

  StatusOr<std::string> out = Render(
      "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}"
      "{% endfor %}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted) << out.status().ToString();

  std::string sets = "{% set a = [] %}";
  for (int i = 0; i < 1000; ++i) sets += "{% set a = {'k': [a]} %}";
  out = Render(sets);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted) << out.status().ToString();

  // A chain of 200000 namespaces, built head first: freeing it must not recurse, and printing
  // it is refused.
  const std::string chain =
      "{% set ns = namespace(tail=namespace()) %}{% set head = ns.tail %}"
      "{% for i in range(200000) %}{% set t = ns.tail %}{% set n = namespace() %}"
      "{% set t.next = n %}{% set ns.tail = n %}{% endfor %}";
  EXPECT_EQ(*Render(chain + "done"), "done");
  out = Render(chain + "{{ head }}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted) << out.status().ToString();

  const std::string deep_json = R"({"x": )" + std::string(600, '[') + std::string(600, ']') + "}";
  out = Render("{{ x | length }}", deep_json);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted) << out.status().ToString();
}

TEST(JinjaTest, TemplateIsReusableAcrossRenders) {
  const StatusOr<JinjaTemplate> t = JinjaTemplate::Parse(
      "{% set ns = namespace(n=0) %}{% for x in l %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n "
      "}}");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t->Render(nlohmann::ordered_json::parse(R"({"l": [1, 2]})")), "3");
  EXPECT_EQ(*t->Render(nlohmann::ordered_json::parse(R"({"l": [5]})")), "5");
}

}  // namespace
}  // namespace dsinfer::tokenizer
