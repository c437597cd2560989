using System.Text.Json;
using Fathom.Engine.Templates;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// Every template of the corpus (Templates/Corpus, from llama.cpp's collection of real models' templates, plus the
/// shared fixtures' tokenizer configs and DeepSeek-R1's own template) rendered with every conversation of
/// <see cref="ChatTemplateConversations"/> by Fathom's interpreter and by Python's jinja2 configured as transformers
/// configures it (Corpus/render_jinja2.py, run as a process): the outputs must be equal byte for byte, and where
/// jinja2 fails, Fathom must fail too (with the template's own message when it called raise_exception).
/// </summary>
public sealed class ChatTemplateCorpusTests
{
    private static readonly DateTime Now = new(2026, 12, 7, 9, 5, 7);

    private static string CorpusDirectory => Path.Combine(AppContext.BaseDirectory, "Templates", "Corpus");

    public static TheoryData<string> Templates()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.EnumerateFiles(CorpusDirectory, "*.jinja").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        foreach (string shared in SharedTemplates)
            data.Add("shared:" + shared);
        return data;
    }

    /// <summary>Templates that use what Fathom's interpreter does not support, with the error they get.</summary>
    private static readonly Dictionary<string, string> KnownUnsupported = new(StringComparer.Ordinal)
    {
        // A dict literal with integer keys ({0: 0, 512: 128, ...}); Fathom's dicts have string keys only.
        ["ByteDance-Seed-OSS.jinja"] = "Only string keys are supported in dict literals",
    };

    private static readonly string[] SharedTemplates =
    [
        "deepseek-r1-distill-llama-70b/chat_template.jinja",
        "deepseek-r1-distill-llama-70b/tokenizer_config.json",
        "hf-tokenizers/llama-3.1/tokenizer_config.json",
        "hf-tokenizers/qwen3/tokenizer_config.json",
        "hf-tokenizers/deepseek-v3/tokenizer_config.json",
    ];

    [Theory]
    [MemberData(nameof(Templates))]
    public void Renders_every_conversation_as_jinja2_does(string name)
    {
        string source = ChatTemplateFile.ReadSource(name.StartsWith("shared:", StringComparison.Ordinal)
            ? SharedFixtures.Default.GetPath(name["shared:".Length..])
            : Path.Combine(CorpusDirectory, name));
        ChatTemplate template;
        try
        {
            template = ChatTemplate.Parse(source);
        }
        catch (TemplateSyntaxException e)
        {
            // A template Fathom cannot parse must be one jinja2 cannot compile either.
            JsonElement[] compiled = Jinja2Reference.Render([(source, new Dictionary<string, object?> { ["messages"] = new List<object?>() })], Now);
            Assert.True(compiled[0].TryGetProperty("error", out JsonElement why) && why.GetString()!.StartsWith("TemplateSyntaxError", StringComparison.Ordinal),
                $"{name}: Fathom cannot parse it ({e.Message}) but jinja2 can");
            TestContext.Current.SendDiagnosticMessage($"{name}: neither jinja2 nor Fathom parses it ({e.Message})");
            return;
        }

        if (KnownUnsupported.TryGetValue(name, out string? unsupported))
        {
            // Kept in the corpus so that the gap stays visible: the render must fail with exactly this reason.
            var error = Assert.ThrowsAny<ChatTemplateException>(() => template.Render(ChatTemplateConversations.All[0].Messages));
            Assert.Contains(unsupported, error.Message, StringComparison.Ordinal);
            return;
        }

        (string Bos, string Eos) tokens = SpecialTokens(source);
        var conversations = ChatTemplateConversations.All;
        var options = conversations.Select(c => new ChatTemplateRenderOptions
        {
            AddGenerationPrompt = c.AddGenerationPrompt,
            BosToken = tokens.Bos,
            EosToken = tokens.Eos,
            Tools = c.Tools,
            ExtraVariables = c.Extra,
            Now = () => Now,
        }).ToList();

        JsonElement[] expected = Jinja2Reference.Render(conversations.Select((c, i) => (source, (IReadOnlyDictionary<string, object?>)template.Variables(c.Messages, options[i]))).ToList(), Now);

        var mismatches = new List<string>();
        for (int i = 0; i < conversations.Count; i++)
        {
            string? error = Compare(template, conversations[i], options[i], expected[i]);
            if (error is not null)
                mismatches.Add($"[{conversations[i].Name}] {error}");
        }

        int rendered = expected.Count(e => e.TryGetProperty("output", out _));
        TestContext.Current.SendDiagnosticMessage(
            $"{name}: {conversations.Count - mismatches.Count}/{conversations.Count} conversations match jinja2 ({rendered} rendered, {conversations.Count - rendered} refused by the template in both)");
        Assert.True(mismatches.Count == 0, $"{name}: {mismatches.Count} of {conversations.Count} conversations differ from jinja2:\n" + string.Join("\n", mismatches));
    }

    private static string? Compare(ChatTemplate template, ChatTemplateConversations.Conversation conversation, ChatTemplateRenderOptions options, JsonElement expected)
    {
        string? ours = null;
        ChatTemplateException? failure = null;
        try
        {
            ours = template.Render(conversation.Messages, options);
        }
        catch (ChatTemplateException e)
        {
            failure = e;
        }

        if (expected.TryGetProperty("output", out JsonElement output))
        {
            string theirs = output.GetString()!;
            if (failure is not null)
                return $"jinja2 rendered, Fathom failed: {failure.Message}";
            return ours == theirs ? null : FirstDifference(ours!, theirs);
        }

        string message = expected.GetProperty("error").GetString()!;
        if (failure is null)
            return $"jinja2 failed ({message}), Fathom rendered";
        if (expected.GetProperty("raised").GetBoolean() && (!failure.RaisedByTemplate || failure.Message != message))
            return $"the template raised \"{message}\" in jinja2, Fathom failed with \"{failure.Message}\"";
        return null;
    }

    private static string FirstDifference(string ours, string theirs)
    {
        int i = 0;
        while (i < ours.Length && i < theirs.Length && ours[i] == theirs[i])
            i++;
        static string Around(string s, int at) => JsonSerializer.Serialize(s.Substring(Math.Max(0, at - 40), Math.Min(s.Length, at + 40) - Math.Max(0, at - 40)));
        return $"differs at {i} (lengths {ours.Length} / {theirs.Length}): Fathom {Around(ours, i)} vs jinja2 {Around(theirs, i)}";
    }

    // The BOS/EOS texts the template's family uses, so that templates that compare or print them see real ones.
    private static (string, string) SpecialTokens(string source) => ChatTemplate.Detect(source) switch
    {
        ChatTemplateFamily.DeepSeekR1 => ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
        ChatTemplateFamily.Llama3 or ChatTemplateFamily.Llama3Tools => ("<|begin_of_text|>", "<|eot_id|>"),
        ChatTemplateFamily.ChatML => ("", "<|im_end|>"),
        _ => ("<s>", "</s>"),
    };
}
