using System.Diagnostics;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Jinja;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// Hostile templates (a model file's template is untrusted input) must fail with a <see cref="ChatTemplateLimitException"/>
/// naming the limit, quickly, instead of exhausting memory, spinning or overflowing the stack (which would end the
/// test process, so a regression here cannot pass silently).
/// </summary>
public sealed class TemplateLimitTests
{
    // Generous for a shared, busy machine; the point is "bounded", not a benchmark.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static readonly ChatMessage[] Chat = [new ChatMessage("user", "Hi")];

    private static ChatTemplateLimitException RenderFails(string source, string limit, ChatTemplateLimits? limits = null)
    {
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<ChatTemplateLimitException>(() =>
            ChatTemplate.Parse(source, limits).Render(Chat));
        Assert.True(clock.Elapsed < Bound, $"took {clock.Elapsed}");
        Assert.Equal(limit, error.Limit);
        Assert.Contains($"exceeded the {(limit == "depth" ? "nesting depth" : limit)} limit", error.Message, StringComparison.Ordinal);
        return error;
    }

    [Fact]
    public void A_namespace_that_holds_itself_printed_crosses_the_depth_limit()
    {
        var error = RenderFails("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", "depth");
        Assert.Contains("200", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_string_repeated_a_billion_times_crosses_the_string_limit_before_allocating() =>
        RenderFails("{{ 'x' * 10**9 }}", "string length");

    [Fact]
    public void A_list_repeated_a_billion_times_crosses_the_list_limit_before_allocating() =>
        RenderFails("{{ [0] * 10**9 }}", "list length");

    [Fact]
    public void A_huge_range_crosses_the_list_limit_before_allocating() =>
        RenderFails("{% for i in range(10**12) %}{% endfor %}", "list length");

    [Fact]
    public void Nested_range_loops_cross_the_step_limit() =>
        RenderFails("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "step");

    [Fact]
    public void Repeated_string_doubling_in_a_loop_crosses_the_string_limit() =>
        RenderFails("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
            "string length");

    [Fact]
    public void Repeated_string_doubling_with_tilde_crosses_the_string_limit() =>
        RenderFails("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "string length");

    [Fact]
    public void A_huge_indent_width_crosses_the_string_limit() =>
        RenderFails("{{ 'a\\nb' | indent(10**9) }}", "string length");

    [Fact]
    public void A_huge_tojson_indent_crosses_the_string_limit() =>
        RenderFails("{{ {'a': [1, 2]} | tojson(indent=10**9) }}", "string length");

    [Fact]
    public void Replacing_every_character_with_a_long_string_crosses_the_string_limit() =>
        RenderFails("{{ ('a' * 100000).replace('a', 'b' * 100000) }}", "string length");

    [Fact]
    public void Join_of_many_long_strings_crosses_the_string_limit() =>
        RenderFails("{{ (['x' * 1000000] * 10) | join(',') }}", "string length");

    [Fact]
    public void Output_beyond_the_limit_crosses_the_output_limit() =>
        RenderFails("{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}", "output");

    [Fact]
    public void Building_big_strings_over_and_over_crosses_the_step_limit() =>
        RenderFails("{% for i in range(1000000) %}{% set s = 'x' * 4000000 %}{% endfor %}", "step");

    [Fact]
    public void Scanning_a_long_string_over_and_over_crosses_the_step_limit() =>
        RenderFails("{% set s = 'x' * 4000000 %}{% for i in range(1000000) %}{% set n = s|length %}{% endfor %}", "step");

    [Fact]
    public void Comparing_lists_that_share_items_exponentially_crosses_the_step_limit() =>
        // 60 levels of [x, x]: 2^60 items when walked, in 60 lists.
        RenderFails("{% set a = namespace(l=[1]) %}{% set b = namespace(l=[1]) %}{% for i in range(60) %}{% set a.l = [a.l, a.l] %}{% set b.l = [b.l, b.l] %}{% endfor %}{{ a.l == b.l }}",
            "step");

    [Fact]
    public void Printing_lists_that_share_items_exponentially_crosses_the_string_limit() =>
        RenderFails("{% set a = namespace(l=[1]) %}{% for i in range(60) %}{% set a.l = [a.l, a.l] %}{% endfor %}{{ a.l }}", "string length");

    [Fact]
    public void A_macro_calling_itself_crosses_the_depth_limit() =>
        RenderFails("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "depth");

    [Fact]
    public void A_macro_calling_itself_twice_crosses_the_step_limit()
    {
        // Depth 20, but 2^20 calls.
        RenderFails("{% macro f(n) %}{% if n < 20 %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}{% endmacro %}{{ f(0) }}", "step");
    }

    [Fact]
    public void Ten_thousand_nested_parentheses_cross_the_depth_limit_at_parse_time()
    {
        string source = "{{ " + new string('(', 10_000) + "1" + new string(')', 10_000) + " }}";
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<ChatTemplateLimitException>(() => ChatTemplate.Parse(source));
        Assert.True(clock.Elapsed < Bound);
        Assert.Equal("depth", error.Limit);
    }

    [Theory]
    [InlineData("{% if true %}", "{% endif %}")]
    [InlineData("{% for i in [1] %}", "{% endfor %}")]
    [InlineData("{{ [", "] }}")]
    [InlineData("{{ {'a': ", "} }}")]
    [InlineData("{{ -", "1 }}")]
    [InlineData("{{ not ", "1 }}")]
    [InlineData("{{ f(", ") }}")]
    public void Ten_thousand_nested_blocks_or_expressions_cross_the_depth_limit_at_parse_time(string open, string close)
    {
        string source = string.Concat(Enumerable.Repeat(open, 10_000)) + string.Concat(Enumerable.Repeat(close, 10_000));
        if (open == "{{ -" || open == "{{ not ")
            source = "{{ " + string.Concat(Enumerable.Repeat(open[3..], 10_000)) + "1 }}";
        if (open == "{{ [" || open == "{{ {'a': " || open == "{{ f(")
            source = "{{ " + string.Concat(Enumerable.Repeat(open[3..], 10_000)) + "1" + string.Concat(Enumerable.Repeat(close[..^3], 10_000)) + " }}";
        var error = Assert.Throws<ChatTemplateLimitException>(() => ChatTemplate.Parse(source));
        Assert.Equal("depth", error.Limit);
    }

    [Theory]
    [InlineData(" + 1")]
    [InlineData(" ~ 'a'")]
    [InlineData(" * 1")]
    [InlineData(" or x")]
    [InlineData(".a")]
    [InlineData("[0]")]
    [InlineData("|string")]
    public void Ten_thousand_chained_operators_cross_the_depth_limit_at_parse_time(string link)
    {
        // Left-associative chains build trees as deep as they are long, which rendering would walk recursively.
        string source = "{{ x" + string.Concat(Enumerable.Repeat(link, 10_000)) + " }}";
        var error = Assert.Throws<ChatTemplateLimitException>(() => ChatTemplate.Parse(source));
        Assert.Equal("depth", error.Limit);
    }

    [Fact]
    public void Recursion_within_every_limit_that_outgrows_the_stack_fails_instead_of_overflowing()
    {
        // 150 nested lists around a macro call that recurses 190 deep: within the depth limit at every level, but
        // some 28,000 nested evaluations, far more than a small thread stack holds. Without the stack check this
        // test would not fail, it would end the test process.
        string expression = new string('[', 150) + "f(n + 1)" + new string(']', 150);
        string source = "{% macro f(n) %}{% if n < 190 %}{{ " + expression + " }}{% endif %}{% endmacro %}{{ f(0) }}";
        ChatTemplate template = ChatTemplate.Parse(source);
        Exception? caught = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    template.Render(Chat);
                }
                catch (Exception e)
                {
                    caught = e;
                }
            },
            maxStackSize: 512 * 1024);
        thread.Start();
        thread.Join();
        var error = Assert.IsType<ChatTemplateLimitException>(caught);
        Assert.Equal("depth", error.Limit);
    }

    [Fact]
    public void Nesting_just_within_the_default_depth_parses_and_renders_on_a_1_MiB_stack()
    {
        // What ChatTemplateLimits.MaxDepth promises: its default fits a small thread stack.
        string nested = new string('[', 190) + "1" + new string(']', 190);
        string source = "{% set v = " + nested + " %}{{ v }}{{ v | tojson }}{{ v == " + nested + " }}";
        string? output = null;
        Exception? caught = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    output = ChatTemplate.Parse(source).Render(Chat);
                }
                catch (Exception e)
                {
                    caught = e;
                }
            },
            maxStackSize: 1024 * 1024);
        thread.Start();
        thread.Join();
        Assert.Null(caught);
        Assert.Equal(nested + nested + "True", output);
    }

    [Fact]
    public void Nesting_within_the_limit_parses_and_renders()
    {
        string source = "{{ " + new string('(', 100) + "1 + 2" + new string(')', 100) + " }}";
        Assert.Equal("3", ChatTemplate.Parse(source).Render(Chat));
    }

    [Fact]
    public void A_dict_that_holds_itself_through_tojson_crosses_the_depth_limit()
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        dict["self"] = dict;
        var error = Assert.Throws<ChatTemplateLimitException>(() =>
            new JinjaTemplate("{{ d | tojson }}").Render(new Dictionary<string, object?> { ["d"] = dict }));
        Assert.Equal("depth", error.Limit);
    }

    [Theory]
    [InlineData("{{ d }}")]
    [InlineData("{{ d | string }}")]
    [InlineData("{{ d == d2 }}")]
    [InlineData("{{ [d] | unique | list }}")]
    [InlineData("{{ d in [d2] }}")]
    public void A_list_that_holds_itself_printed_or_compared_crosses_the_depth_limit(string source)
    {
        var list = new List<object?>();
        list.Add(list);
        var other = new List<object?>();
        other.Add(other);
        var error = Assert.Throws<ChatTemplateLimitException>(() =>
            new JinjaTemplate(source).Render(new Dictionary<string, object?> { ["d"] = list, ["d2"] = other }));
        Assert.Equal("depth", error.Limit);
    }

    [Fact]
    public void A_caller_variable_that_holds_itself_crosses_the_depth_limit_when_converted()
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        dict["self"] = dict;
        var options = new ChatTemplateRenderOptions { ExtraVariables = new Dictionary<string, object?> { ["d"] = dict } };
        var error = Assert.Throws<ChatTemplateLimitException>(() => ChatTemplate.Parse("{{ d | tojson }}").Render(Chat, options));
        Assert.Equal("depth", error.Limit);
    }

    [Fact]
    public void Limits_passed_with_the_render_options_replace_the_templates()
    {
        ChatTemplate template = ChatTemplate.Parse("{% for i in range(50) %}{{ i }}{% endfor %}");
        Assert.Equal(90, template.Render(Chat).Length);
        var tight = new ChatTemplateRenderOptions { Limits = new ChatTemplateLimits { MaxSteps = 40 } };
        var error = Assert.Throws<ChatTemplateLimitException>(() => template.Render(Chat, tight));
        Assert.Equal("step", error.Limit);
        Assert.Contains("step limit of 40", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_given_at_parse_time_apply_to_every_render()
    {
        ChatTemplate template = ChatTemplate.Parse("{{ 'ab' * 10 }}", new ChatTemplateLimits { MaxStringLength = 10 });
        var error = Assert.Throws<ChatTemplateLimitException>(() => template.Render(Chat));
        Assert.Contains("string length limit of 10 characters", error.Message, StringComparison.Ordinal);
        Assert.Throws<ChatTemplateLimitException>(() => ChatTemplate.Parse("{{ ((1)) }}", new ChatTemplateLimits { MaxDepth = 2 }));
    }

    [Fact]
    public void Limits_must_be_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ChatTemplate.Parse("x", new ChatTemplateLimits { MaxSteps = 0 }));

    [Fact]
    public void A_slice_with_a_huge_step_takes_one_item() =>
        Assert.Equal("[1]", ChatTemplate.Parse("{{ [1, 2, 3][::9223372036854775807] }}").Render(Chat));

    [Fact]
    public void Integer_overflow_corners_do_not_throw_outside_the_template_errors() =>
        Assert.Equal("-9223372036854775808 -9223372036854775808 0",
            ChatTemplate.Parse("{% set m = -9223372036854775807 - 1 %}{{ m // -1 }} {{ m | abs }} {{ m % -1 }}").Render(Chat));
}
