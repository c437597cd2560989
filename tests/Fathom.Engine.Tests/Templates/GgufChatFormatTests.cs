using Fathom.Gguf;
using Fathom.Engine.Templates;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Templates;

public sealed class GgufChatFormatTests
{
    [Fact]
    public void Stories260K_has_no_template_so_the_chatml_fallback_is_used_with_its_bos_and_eos()
    {
        using GgufFile file = GgufFile.Open(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K));
        GgufChatFormat format = GgufChatFormat.FromMetadata(file.Metadata);
        Assert.Null(file.Metadata.GetString(GgufChatFormat.ChatTemplateKey));
        Assert.True(format.Template.IsFallback);
        Assert.Equal("<s>", format.BosToken);
        Assert.Equal("</s>", format.EosToken);
        Assert.Equal("<|im_start|>user\nOnce upon a time<|im_end|>\n<|im_start|>assistant\n",
            format.Template.Render([new ChatMessage("user", "Once upon a time")], format.RenderOptions()));
    }

    [Fact]
    public void A_template_in_the_file_is_read_detected_and_rendered_with_the_files_tokens()
    {
        string template = File.ReadAllText(SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/chat_template.jinja"));
        var writer = new GgufWriter()
            .AddMetadata("general.architecture", "llama")
            .AddMetadata(GgufChatFormat.ChatTemplateKey, template)
            .AddMetadata("tokenizer.ggml.tokens", new[] { "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "a" })
            .AddMetadata("tokenizer.ggml.bos_token_id", 0u)
            .AddMetadata("tokenizer.ggml.eos_token_id", 1u);
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        using GgufFile file = GgufFile.OpenBytes(stream.ToArray());
        GgufChatFormat format = GgufChatFormat.FromMetadata(file.Metadata);
        Assert.False(format.Template.IsFallback);
        Assert.Equal(ChatTemplateFamily.DeepSeekR1, format.Template.Family);
        Assert.Equal("<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜><think>\n",
            format.Template.Render([new ChatMessage("user", "Hi")], format.RenderOptions()));
    }

    private static GgufChatFormat FormatWith(string template)
    {
        var writer = new GgufWriter()
            .AddMetadata("general.architecture", "llama")
            .AddMetadata(GgufChatFormat.ChatTemplateKey, template)
            .AddMetadata("tokenizer.ggml.tokens", new[] { "<s>", "</s>", "a" })
            .AddMetadata("tokenizer.ggml.bos_token_id", 0u)
            .AddMetadata("tokenizer.ggml.eos_token_id", 1u);
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        using GgufFile file = GgufFile.OpenBytes(stream.ToArray());
        return GgufChatFormat.FromMetadata(file.Metadata);
    }

    [Theory]
    [InlineData("{{ raise_exception('Conversation roles must alternate system/user') }}", "roles must alternate")]
    [InlineData("{% for m in messages %}{{ m.content.nope.deeper }}{% endfor %}", "has no attribute")]
    [InlineData("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "step limit")]
    [InlineData("{{ bos_token }}{% for m in messages %}{{ m.role }}{% endfor %}", "without the last user message")]
    public void A_template_that_cannot_render_a_two_turn_chat_fails_to_load_with_the_reason(string template, string reason)
    {
        var error = Assert.Throws<ChatTemplateException>(() => FormatWith(template));
        Assert.Contains("two-turn conversation", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_template_that_renders_the_canned_chat_loads()
    {
        GgufChatFormat format = FormatWith("{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}");
        format.Verify();
        Assert.Equal("<s>", format.BosToken);
    }

    [Fact]
    public void Every_real_template_passes_the_load_check()
    {
        foreach (string source in TemplateFuzzTests.Corpus())
            new GgufChatFormat(ChatTemplate.Parse(source), "<s>", "</s>").Verify();
    }
}
