using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Fathom.Engine.Templates;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// Random token soups and mutations of real chat templates, with fixed seeds: parsing and rendering a canned chat
/// either succeeds or fails with a <see cref="ChatTemplateException"/> (syntax errors and limits included), never
/// with another exception, a stack overflow (which would end the test process) or a long stall.
/// </summary>
public sealed class TemplateFuzzTests
{
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(10);

    // Small limits keep thousands of cases fast; the checks behind them are the same as with the defaults.
    private static readonly ChatTemplateLimits Limits = new()
    {
        MaxSteps = 20_000,
        MaxOutputLength = 256 * 1024,
        MaxStringLength = 256 * 1024,
        MaxListLength = 64 * 1024,
    };

    private static readonly string[] Fragments =
    [
        "{{", "}}", "{%", "%}", "{#", "#}", "{{-", "-}}", "{%-", "-%}", "{%+", "(", ")", "[", "]", "{", "}", ",", ":", ".",
        "|", "~", "+", "-", "*", "**", "/", "//", "%", "==", "!=", "<", ">=", "=", "'x'", "\"y\"", "''", "0", "1", "-1", "2.5",
        "10**9", "10**18", "9223372036854775807", "99999999999999999999", "1e308", "1_000", "if", "else", "elif", "endif",
        "for", "in", "endfor", "set", "endset", "macro", "endmacro", "filter", "endfilter", "not", "and", "or", "is",
        "defined", "none", "None", "true", "false", "messages", "message", "m", "loop", "loop.index", "ns", "ns.x",
        "namespace(", "range(", "dict(", "raise_exception(", "strftime_now(", "tojson", "join", "indent", "length",
        "items", "string", "trim", "upper", "replace(", "split(", "selectattr(", "map(", "sort", "unique", "first",
        "last", "reverse", "default(", "format", "center", "messages[0]", "message['content']", "message.role",
        "'\\u0041'", "'\\x'", "'\\xzz'", "'\\U0010ffff'", "'\\Uffffffff'", "'\\777'", "break", "continue", "recursive",
        "raw", "endraw", "generation", "endgeneration", "tools", "add_generation_prompt", "bos_token", " ", "\n", "\t",
        "[::-1]", "[1:]", "[::0]", "[-9223372036854775807:]", "%s", "'%s' % ", "'%d' %", "x",
    ];

    private static readonly ChatMessage[] Chat =
    [
        new ChatMessage("system", "Be brief."),
        new ChatMessage("user", "Hello! Who are you?"),
        new ChatMessage("assistant", "I am a helpful assistant.")
        {
            ToolCalls = [new ChatToolCall("call-1", "get_weather", """{"city": "Paris", "days": [1, 2]}""")],
        },
        new ChatMessage("tool", "{\"temp\": 20}") { ToolCallId = "call-1" },
        new ChatMessage("user", "Tell me a joke."),
    ];

    private static readonly ChatTemplateRenderOptions Options = new()
    {
        BosToken = "<s>",
        EosToken = "</s>",
        Tools = [JsonDocument.Parse("""{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}""").RootElement.Clone()],
        Now = () => new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
    };

    /// <summary>The real templates: the repository's test data, and the shared fixtures' when present.</summary>
    internal static List<string> Corpus()
    {
        var corpus = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Templates", "Data"), "*.jinja")
            .Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();
        if (SharedFixtures.Default.Exists("deepseek-r1-distill-llama-70b/chat_template.jinja"))
            corpus.Add(File.ReadAllText(SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/chat_template.jinja")));
        foreach (string model in new[] { "qwen3", "llama-3.1", "deepseek-v3" })
        {
            string path = $"hf-tokenizers/{model}/tokenizer_config.json";
            if (!SharedFixtures.Default.Exists(path))
                continue;
            using JsonDocument config = JsonDocument.Parse(File.ReadAllText(SharedFixtures.Default.GetPath(path)));
            if (config.RootElement.TryGetProperty("chat_template", out JsonElement template) && template.ValueKind == JsonValueKind.String)
                corpus.Add(template.GetString()!);
        }

        Assert.True(corpus.Count >= 5, "the repository's own templates are missing");
        return corpus;
    }

    [Fact]
    public void The_real_templates_render_the_canned_chat_within_the_fuzz_limits()
    {
        // Otherwise the mutation test would mostly exercise limit failures, not the interpreter.
        foreach (string source in Corpus())
        {
            try
            {
                ChatTemplate.Parse(source, Limits).Render(Chat, Options);
            }
            catch (ChatTemplateException e) when (e is not ChatTemplateLimitException)
            {
                // A template may reject the canned roles (e.g. a tool turn); that is its own error, not a limit.
            }
        }
    }

    [Fact]
    public void The_real_templates_render_a_10000_message_chat_within_the_default_limits()
    {
        // Evidence for ChatTemplateLimits' defaults: a chat far longer than any context fits inside them (the most
        // expensive template here, Qwen3's, spends between 100,000 and 300,000 steps on it).
        var chat = new List<ChatMessage>();
        for (int i = 0; i < 5000; i++)
        {
            chat.Add(new ChatMessage("user", $"Question {i}?"));
            chat.Add(new ChatMessage("assistant", $"Answer {i}."));
        }

        chat.Add(new ChatMessage("user", "Last question?"));
        foreach (string source in Corpus())
        {
            string prompt = ChatTemplate.Parse(source).Render(chat, new ChatTemplateRenderOptions { BosToken = "<s>", EosToken = "</s>" });
            Assert.Contains("Last question?", prompt, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Mutated_real_templates_fail_only_with_template_errors()
    {
        List<string> corpus = Corpus();
        var random = new Random(20261207);
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < 3000; i++)
        {
            string source = corpus[random.Next(corpus.Count)];
            int mutations = 1 + random.Next(4);
            for (int m = 0; m < mutations; m++)
                source = Mutate(source, corpus, random);
            Check(source, i, failures);
        }

        AssertNoFailures(failures);
    }

    [Fact]
    public void Token_soups_fail_only_with_template_errors()
    {
        var random = new Random(7);
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        var sb = new StringBuilder();
        for (int i = 0; i < 3000; i++)
        {
            sb.Clear();
            int tokens = 1 + random.Next(60);
            for (int t = 0; t < tokens; t++)
            {
                sb.Append(Fragments[random.Next(Fragments.Length)]);
                if (random.Next(3) == 0)
                    sb.Append(' ');
            }

            // Half of the soups inside one output tag, so that more of them get past the lexer.
            string soup = random.Next(2) == 0 ? "{{ " + sb + " }}" : sb.ToString();
            Check(soup, i, failures);
        }

        AssertNoFailures(failures);
    }

    // Distinct failures (by exception type and throwing method), each with its first template, so that one run
    // shows every kind of failure rather than the first.
    private static void Check(string source, int iteration, Dictionary<string, string> failures)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            ChatTemplate.Parse(source, Limits).Render(Chat, Options);
        }
        catch (ChatTemplateException)
        {
            // TemplateSyntaxException and ChatTemplateLimitException included.
        }
        catch (Exception e)
        {
            string key = $"{e.GetType().Name} in {e.TargetSite?.DeclaringType?.Name}.{e.TargetSite?.Name}";
            failures.TryAdd(key, $"case {iteration}: {e.Message}\n--- template ---\n{source}\n--- stack ---\n{e.StackTrace}");
        }

        Assert.True(clock.Elapsed < PerCase, $"case {iteration} took {clock.Elapsed}:\n{source}");
    }

    private static void AssertNoFailures(Dictionary<string, string> failures) =>
        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Select(f => $"{f.Key}: {f.Value}")));

    private static string Mutate(string source, List<string> corpus, Random random)
    {
        int at = source.Length == 0 ? 0 : random.Next(source.Length);
        int length = Math.Min(source.Length - at, 1 + random.Next(40));
        switch (random.Next(5))
        {
            case 0:
                return source.Remove(at, length);
            case 1:
                return source.Insert(at, Fragments[random.Next(Fragments.Length)]);
            case 2:
                int from = source.Length == 0 ? 0 : random.Next(source.Length);
                string copy = source.Substring(from, Math.Min(source.Length - from, 1 + random.Next(200)));
                return source.Insert(at, copy);
            case 3:
                string other = corpus[random.Next(corpus.Count)];
                int start = random.Next(other.Length);
                return source.Remove(at, length).Insert(at, other.Substring(start, Math.Min(other.Length - start, 1 + random.Next(200))));
            default:
                string fragment = Fragments[random.Next(Fragments.Length)];
                return source.Remove(at, Math.Min(length, fragment.Length)).Insert(at, fragment);
        }
    }
}
