// The Jinja subset one construct at a time: each template's expected text is what jinja2 3.1.6 renders with
// transformers' settings (checked when these cases were written), in the context `LanguageCase.context`.
@testable import AIGCTokenizers
import Foundation
import Testing

struct LanguageCase: Sendable, CustomTestStringConvertible {
    let template: String
    let expected: String
    init(_ template: String, _ expected: String) { self.template = template; self.expected = expected }
    var testDescription: String { template.debugDescription }

    static let context: [String: TemplateValue] = [
        "d": ["a": 1, "b": 2],
        "messages": [["role": "user", "content": "hi"], ["role": "assistant", "content": " yo "]],
        "name": "World",
    ]

    static let all: [LanguageCase] = [
        // Literals and printing (Python str() of values)
        .init(#"{{ none }}|{{ true }}|{{ False }}|{{ 42 }}|{{ -7 }}"#, "None|True|False|42|-7"),
        .init(#"{{ [1,'a',none,true,1.5] }}"#, "[1, 'a', None, True, 1.5]"),
        .init(#"{{ {'a':1} }} {{ (1,) }} {{ (1,2) }} {{ "it's" }}"#, #"{'a': 1} (1,) (1, 2) it's"#),
        .init(#"{{ 1e16 }} {{ 0.1 }} {{ 1e-5 }} {{ 2.5e-5 }} {{ 1.0 }} {{ 9999999999999998.0 }}"#, "1e+16 0.1 1e-05 2.5e-05 1.0 9999999999999998.0"),
        .init(#"{{ '\u00e9\x41\n\q' }}"#, "éA\n\\q"),
        .init(#"{{ 'a' 'b' }}{{ "x" ~ 'y' }}"#, "abxy"),
        .init(#"{{ 0x1F }} {{ 1_000 }} {{ 1.5e3 }}"#, "31 1000 1500.0"),
        // Arithmetic with Python's rules
        .init(#"{{ 10/4 }} {{ 10//4 }} {{ -7 % 3 }} {{ -7 // 2 }} {{ 2**10 }} {{ 2**-1 }} {{ 2**3**2 }}"#, "2.5 2 2 -4 1024 0.5 64"),
        .init(#"{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 3.0 * 2 }} {{ true + 1 }} {{ 0.1 + 0.2 }}"#, "7 9 6.0 2 0.30000000000000004"),
        .init(#"{{ 'a' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 'x' ~ 1 ~ none ~ true }}"#, "aaa [1, 1] [1, 2] x1NoneTrue"),
        .init(#"{{ -3|abs }} {{ -(2) }} {{ +3 }}"#, "3 -2 3"),
        // Comparisons, membership, boolean logic
        .init(#"{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'b' > 'a' }} {{ 1 == true }} {{ 1 == 1.0 }} {{ 'a' != 'a' }}"#, "True False True True True False"),
        .init(#"{{ 'ab' in 'xabc' }} {{ 'a' not in ['a'] }} {{ 'k' in {'k':1} }} {{ 2 in [1,2] }}"#, "True False True True"),
        .init(#"{{ [1,2] == [1,2] }} {{ {'a':1,'b':2} == {'b':2,'a':1} }} {{ (1,) == [1] }}"#, "True True False"),
        .init(#"{{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' and 'z' }}|{{ not 0 }} {{ not not 'a' }}"#, "x y |True True"),
        .init(#"{{ 'yes' if d.a == 1 else 'no' }} {{ 'x' if false }}|{{ 1 if none else 2 }}"#, "yes |2"),
        // Variables, attributes, items, slices
        .init(#"{{ d.a }} {{ d['b'] }} {{ messages[0].role }} {{ messages[-1]['content'] }}|"#, "1 2 user  yo |"),
        .init(#"{{ messages[1:]|length }} {{ 'abc'[1:] }} {{ 'abc'[-1] }} {{ 'abc'[::-1] }} {{ [1,2,3][:-1] }} {{ [1,2,3,4][::2] }}"#, "1 bc c cba [1, 2] [1, 3]"),
        .init(#"{{ d.items|string == d.items()|string }}{{ d.get('a', 3) }} {{ d.get('zz') }} {{ d.keys()|list }} {{ d.values()|list }}"#, "False1 None ['a', 'b'] [1, 2]"),
        .init(#"{{ d.items()|list }} {{ d|items|list }} {{ d|dictsort }}"#, "[('a', 1), ('b', 2)] [('a', 1), ('b', 2)] [('a', 1), ('b', 2)]"),
        .init(#"{{ 'x'.content is defined }}|{{ 'x'.content }}|{{ none.x is defined }}|{{ d.zz }}|{{ messages[5] is defined }}"#, "False||False||False"),
        // Undefined behaves like jinja2's default Undefined
        .init(#"[{{ nope }}] {{ nope is defined }} {{ nope is undefined }} {{ nope|length }} {{ 'a' in nope }} {{ nope == none }} {{ nope ~ 'x' }}"#, "[] False True 0 False False x"),
        .init(#"{% for i in nope %}x{% else %}empty{% endfor %} {{ nope|default('dflt') }} {{ none|default('x') }} {{ ''|default('z', true) }}"#, "empty dflt None z"),
        .init(#"{{ nope is iterable }} {{ nope|trim }}|{{ nope|string }}|"#, "True ||"),
        // String methods
        .init(#"{{ ' a '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|"#, "a|a|a|a|"),
        .init(#"{{ 'a,b'.split(',') }} {{ 'a b  c'.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }}"#, "['a', 'b'] ['a', 'b', 'c'] ['a', 'b,c'] ['a,b', 'c']"),
        .init(#"{{ 'Hello'.lower().startswith('he') }} {{ 'abc'.startswith(('x','a')) }} {{ 'abc'.endswith('bc') }}"#, "True True True"),
        .init(#"{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'abc'.upper() }} {{ 'ABC'.lower() }}"#, "Hello World Hello ABC abc"),
        .init(#"{{ 'aaa'.replace('a','b',2) }} {{ 'abc'.find('c') }} {{ 'abc'.find('z') }} {{ 'banana'.count('an') }} {{ '-'.join(['a','b']) }}"#, "bba 2 -1 2 a-b"),
        // Filters
        .init(#"{{ '  x  '|trim }}|{{ 'xyx'|trim('x') }}|{{ 'ab'|length }} {{ d|length }} {{ [1,2]|count }}"#, "x|y|2 2 2"),
        .init(#"{{ 'A'|lower }} {{ 'a'|upper }} {{ 'hELLO'|capitalize }} {{ 'a-b c_d (e'|title }}"#, "a A Hello A-B C_d (E"),
        .init(#"{{ [1,2]|join }} {{ [1,2]|join('-') }} {{ messages|join(', ', attribute='role') }}"#, "12 1-2 user, assistant"),
        .init(#"{{ 'abc'|first }} {{ [1,2]|last }} {{ 'ab'|list }} {{ (1,2)|list }} {{ 3|string + 'a' }}"#, "a 2 ['a', 'b'] [1, 2] 3a"),
        .init(#"{{ 'x'|replace('x','y') }} {{ 'a\nb'|indent(2) }} {{ 'ab'|center(6) }}|"#, "y a\n  b   ab  |"),
        .init(#"{{ 1|float }} {{ '3'|int + 1 }} {{ 3.7|int }} {{ 'x'|int }} {{ 3.5|round }} {{ 2.5|round }} {{ 2.567|round(2) }}"#, "1.0 4 3 0 4.0 2.0 2.57"),
        .init(#"{{ [3,1,2]|sort }} {{ ['b','A','c']|sort }} {{ [3,1,2]|sort(reverse=true) }} {{ [1,1,2]|unique|list }} {{ [1,2,3]|reverse|list }}"#, "[1, 2, 3] ['A', 'b', 'c'] [3, 2, 1] [1, 2] [3, 2, 1]"),
        .init(#"{{ [1,2]|sum }} {{ [1,5]|max }} {{ [4,2]|min }} {{ messages|map(attribute='role')|list }} {{ ['a','b']|map('upper')|join }}"#, "3 5 2 ['user', 'assistant'] AB"),
        .init(#"{{ messages|selectattr('role','equalto','user')|list|length }} {{ messages|rejectattr('role','eq','user')|map(attribute='role')|first }}"#, "1 assistant"),
        .init(#"{{ messages|selectattr('tool_calls','undefined')|list|length }} {{ [0,1,2,3]|select('odd')|list }} {{ [0,1,'']|select|list }} {{ [1,2,3]|reject('even')|list }}"#, "2 [1, 3] [1] [1, 3]"),
        .init(#"{{ '%s-%d'|format('a', 3) }} {{ '%s!' % 'x' }} {{ '<a>'|e }} {{ [1,2,3,4,5]|batch(2)|list }}"#, "a-3 x! &lt;a&gt; [[1, 2], [3, 4], [5]]"),
        // tojson: json.dumps with ensure_ascii=False, keys in insertion order
        .init(#"{{ [3,1]|tojson }} {{ {'b':[1,{}],'a':'é"'}|tojson }} {{ none|tojson }} {{ 1.5|tojson }} {{ true|tojson }}"#, #"[3, 1] {"b": [1, {}], "a": "é\""} null 1.5 true"#),
        .init(#"{{ {'a':{'b':[1,2]}}|tojson(indent=2) }}"#, "{\n  \"a\": {\n    \"b\": [\n      1,\n      2\n    ]\n  }\n}"),
        .init(#"{{ []|tojson(indent=4) }} {{ {}|tojson(indent=2) }} {{ '\t\x01\x7f'|tojson }} {{ {'b':1,'a':2}|tojson(sort_keys=true) }}"#, "[] {} \"\\t\\u0001\u{7f}\" {\"a\": 2, \"b\": 1}"),
        // Tests
        .init(#"{{ 5 is divisibleby 5 }} {{ 'a' is string }} {{ {} is mapping }} {{ 'a' is iterable }} {{ 1 is number }} {{ true is number }}"#, "True True True True True True"),
        .init(#"{{ none is none }} {{ 1 is none }} {{ 2 is even }} {{ 3 is odd }} {{ 1 is integer }} {{ 1.0 is float }} {{ 'ab' is lower }} {{ 'user' is in ['user'] }}"#, "True False True True True True True True"),
        .init(#"{{ 'x' is not string }} {{ d is not mapping }} {{ [1] is sequence }} {{ 3 is gt 2 }} {{ 3 is sameas 3 }} {{ none is sameas none }}"#, "False False True True True True"),
        // for loops: loop variables, else, filters, unpacking, nesting, break/continue
        .init(#"{% for a, b in {'x':1,'y':2}.items() %}{{ a }}={{ b }}{{ loop.index }}/{{ loop.length }}/{{ loop.revindex }}{% if not loop.last %},{% endif %}{% endfor %}"#, "x=11/2/2,y=22/2/1"),
        .init(#"{% for x in 'abc' %}{{ loop.index0 }}{{ loop.first }}{{ loop.revindex0 }}{% endfor %}"#, "0True21False12False0"),
        .init(#"{% for x in [] %}a{% else %}empty{% endfor %}|{% for x in [1,2,3] if x > 1 %}{{ loop.index }}{{ x }}{% endfor %}"#, "empty|1223"),
        .init(#"{% for k in d %}{{ k }}{% endfor %} {% for i in range(3) %}{{ i }}{% endfor %} {{ range(1,7,2)|list }} {{ range(5,0,-2)|list }}"#, "ab 012 [1, 3, 5] [5, 3, 1]"),
        .init(#"{% for i in [1,2] %}{% for j in 'ab' %}{{ loop.depth }}{{ i }}{{ j }}{% endfor %}{{ loop.depth }}{% endfor %}"#, "11a11b112a12b1"),
        .init(#"{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}"#, "02"),
        .init(#"{% for x in [1,2,3] %}{{ loop.previtem|default('-') }}{{ loop.nextitem|default('-') }}{{ loop.cycle('a','b') }} {% endfor %}"#, "-2a 13b 2-a "),
        // Scoping: set inside a loop does not leak; namespace() does
        .init(#"{% set x = 5 %}{% for i in [1,2] %}[{{ x }}]{% set x = i %}{% endfor %}[{{ x }}]"#, "[5][5][5]"),
        .init(#"{% for i in [1,2] %}{% if i == 2 %}[{{ x }}]{% endif %}{% set x = i %}{% endfor %}[{{ x }}]"#, "[][]"),
        .init(#"{% set ns = namespace(a=1, found=false) %}{% for i in [1,2] %}{% set ns.a = ns.a + i %}{% set ns.found = true %}{% endfor %}{{ ns.a }} {{ ns.found }}"#, "4 True"),
        .init(#"{% set ns = namespace() %}{% set ns.index = 0 %}{% set ns.index = ns.index + 1 %}{{ ns.index }} {{ namespace(a=1) }}"#, "1 <Namespace {'a': 1}>"),
        .init(#"{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = 1, 2 %}{{ t }} {% set messages = messages[1:] %}{{ messages|length }}"#, "12 (1, 2) 1"),
        .init(#"{%- set x -%} a {%- endset %}[{{ x }}]{% set y | upper %}b{% endset %}{{ y }}"#, "[a]B"),
        .init(#"{% if false %}a{% elif 0 %}b{% elif 'x' %}c{% else %}d{% endif %}{% if none %}1{% else %}2{% endif %}"#, "c2"),
        // Macros
        .init(#"{% macro m(a, b='z') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}{{ m('x', 'y') }}"#, "1z12xy"),
        // Whitespace: trim_blocks, lstrip_blocks, - and + markers, comments, raw
        .init("  {% if true %}\n  x\n  {% endif %}\n  y", "  x\n  y"),
        .init("a\n  {%- if true %} b {% endif -%}\n  c", "a b c"),
        .init("a\n  {%+ if true %}b{% endif %}", "a\n  b"),
        .init("{% if true +%}\nb{% endif %}", "\nb"),
        .init("x {{- ' y ' -}} z\n{{ 'w' }}\n", "x y z\nw"),
        .init("a {# note #}\nb\n  {# indented note #}\nc {#- tight -#} d", "a b\ncd"),
        .init("{% raw %}{{ x }}{% endraw %}|{%- raw -%} {% y %} {%- endraw %}|", "{{ x }}|{% y %}|"),
        .init("line1\r\nline2\rline3\n\n", "line1\nline2\nline3\n"),
        // Globals
        .init(#"{{ strftime_now('%Y-%m-%d') }} {{ dict(a=1)|tojson }}"#, "2025-03-14 {\"a\": 1}"),
    ]
}

@Suite struct ChatTemplateLanguageTests {
    @Test(arguments: LanguageCase.all)
    func rendersLikeJinja2(_ c: LanguageCase) throws {
        let output = try ChatTemplate(c.template).render(context: LanguageCase.context, now: ChatTemplateFixtures.now)
        #expect(output == c.expected)
    }
}
