using Fathom.Engine.Model;
using Fathom.Engine.Serving;
using Fathom.Engine.Templates;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Serving;

/// <summary>What <see cref="ServedModel.Load"/> reports for a file it cannot serve.</summary>
public sealed class ServedModelLoadTests
{
    [Fact]
    public void A_chat_template_that_fails_its_load_check_is_a_model_load_error_naming_the_file_and_the_problem()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fathom-bad-template-{Guid.NewGuid():N}.gguf");
        new GgufWriter()
            .AddMetadata("general.architecture", "llama")
            .AddMetadata(GgufChatFormat.ChatTemplateKey, "{{ raise_exception('this template refuses every chat') }}")
            .AddMetadata("tokenizer.ggml.model", "llama")
            .AddMetadata("tokenizer.ggml.tokens", new[] { "<unk>", "<s>", "</s>", "\u2581a" })
            .AddMetadata("tokenizer.ggml.scores", new[] { 0f, 0f, 0f, -1f })
            .AddMetadata("tokenizer.ggml.token_type", new[] { 2, 3, 3, 1 })
            .AddMetadata("tokenizer.ggml.bos_token_id", 1u)
            .AddMetadata("tokenizer.ggml.eos_token_id", 2u)
            .AddMetadata("tokenizer.ggml.unknown_token_id", 0u)
            .WriteTo(path);
        try
        {
            var error = Assert.Throws<ModelLoadException>(() => ServedModel.Load(path));

            Assert.Equal(path, error.FilePath);
            Assert.Contains("chat template", error.Message, StringComparison.Ordinal);
            Assert.Contains("this template refuses every chat", error.Message, StringComparison.Ordinal);
            Assert.IsType<ChatTemplateException>(error.InnerException, exactMatch: false);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
