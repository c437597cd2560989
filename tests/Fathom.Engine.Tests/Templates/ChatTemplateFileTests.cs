using Fathom.Engine.Model;
using Fathom.Engine.Serving;
using Fathom.Engine.Templates;

namespace Fathom.Engine.Tests.Templates;

/// <summary><see cref="ChatTemplateFile"/>: the <c>--chat-template</c> file, as Jinja text or a <c>tokenizer_config.json</c>.</summary>
public sealed class ChatTemplateFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fathom-template-file-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_jinja_file_is_read_as_written_without_a_byte_order_mark()
    {
        string path = Write("t.jinja", "\uFEFF{{ messages[0]['content'] }}");

        ChatTemplate template = ChatTemplateFile.Load(path);

        Assert.Equal("{{ messages[0]['content'] }}", template.Source);
        Assert.Equal("hi", template.Render([new ChatMessage("user", "hi")]));
    }

    [Fact]
    public void A_tokenizer_config_gives_its_chat_template_string_or_its_default_named_template()
    {
        string single = Write("single.json", """{"bos_token":"<s>","chat_template":"A{{ bos_token }}"}""");
        string named = Write("named.json", """{"chat_template":[{"name":"tool_use","template":"T"},{"name":"default","template":"D"}]}""");

        Assert.Equal("A{{ bos_token }}", ChatTemplateFile.ReadSource(single));
        Assert.Equal("D", ChatTemplateFile.ReadSource(named));
    }

    [Theory]
    [InlineData("missing.jinja", null, "does not exist")]
    [InlineData("empty.jinja", "  \n", "is empty")]
    [InlineData("broken.jinja", "{% for m in messages %}", "not a valid template")]
    [InlineData("config.json", """{"bos_token":"<s>"}""", "no \"chat_template\"")]
    [InlineData("bad.json", "{not json", "not valid JSON")]
    public void A_file_that_is_no_template_is_a_chat_template_error_naming_the_file(string name, string? content, string reason)
    {
        string path = content is null ? Path.Combine(_directory, name) : Write(name, content);

        var error = Assert.ThrowsAny<ChatTemplateException>(() => ChatTemplateFile.Load(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_and_oversized_files_are_refused()
    {
        string binary = Path.Combine(_directory, "binary.jinja");
        File.WriteAllBytes(binary, [0x7B, 0x7B, 0xFF, 0xFE, 0x7D, 0x7D]);
        string huge = Path.Combine(_directory, "huge.jinja");
        File.WriteAllText(huge, new string('x', ChatTemplateFile.MaxFileBytes + 1));

        Assert.Contains("not UTF-8", Assert.Throws<ChatTemplateException>(() => ChatTemplateFile.ReadSource(binary)).Message, StringComparison.Ordinal);
        Assert.Contains("at most", Assert.Throws<ChatTemplateException>(() => ChatTemplateFile.ReadSource(huge)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ServedModel_load_with_a_missing_template_file_is_a_model_load_error_before_the_model_is_read()
    {
        string missing = Path.Combine(_directory, "nope.jinja");

        // The model path is not even opened: the template is checked first.
        var error = Assert.Throws<ModelLoadException>(() =>
            ServedModel.Load(Path.Combine(_directory, "no-model.gguf"), new ServedModelOptions { ChatTemplatePath = missing }));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.IsType<ChatTemplateException>(error.InnerException, exactMatch: false);
    }

    private string Write(string name, string content)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
