using Fathom.Engine.Tokenization;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Tokenization;

/// <summary>
/// <see cref="HuggingFaceTokenizerFiles"/>: tokenizer.json with tokenizer_config.json, chat_template.jinja and
/// generation_config.json, on the shared real tokenizers and on temporary directories around a small fixture.
/// </summary>
public sealed class HuggingFaceTokenizerFilesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fathom-hf-files-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Llama31_takes_bos_from_the_post_processor_and_eos_from_the_config()
    {
        var files = HuggingFaceTokenizerFiles.Load(VocabularyFixtures.HuggingFaceDirectory("llama-3.1"));
        var tokenizer = files.Tokenizer;
        Assert.Equal(128000, tokenizer.BosId);
        Assert.True(tokenizer.AddBos);
        Assert.Equal(128009, tokenizer.EosId);
        Assert.Equal("<|begin_of_text|>", files.BosToken);
        Assert.Equal("<|eot_id|>", files.EosToken);
        Assert.True(tokenizer.CleanSpaces);
        Assert.StartsWith("{% set loop_messages = messages %}", files.ChatTemplate, StringComparison.Ordinal);
        Assert.Empty(files.NamedChatTemplates);
        Assert.Equal([128000, 9906], tokenizer.Encode("Hello", addSpecial: true));
        Assert.Contains(128009, tokenizer.EndOfGenerationIds);
    }

    [Fact]
    public void Qwen3_adds_no_bos_and_ends_with_im_end()
    {
        var files = HuggingFaceTokenizerFiles.Load(VocabularyFixtures.HuggingFaceDirectory("qwen3"));
        Assert.Null(files.Tokenizer.BosId);
        Assert.False(files.Tokenizer.AddBos);
        Assert.Equal("", files.BosToken);
        Assert.Equal("<|im_end|>", files.EosToken);
        Assert.Equal(151643, files.Tokenizer.PaddingId);
        Assert.False(files.Tokenizer.CleanSpaces);
        Assert.Equal(files.Tokenizer.Encode("Hello"), files.Tokenizer.Encode("Hello", addSpecial: true));
    }

    [Fact]
    public void DeepSeek_v3_config_turns_bos_on_though_the_post_processor_adds_none()
    {
        // tokenizer_config.json: LlamaTokenizerFast with add_bos_token true and bos_token as an AddedToken object.
        var files = HuggingFaceTokenizerFiles.Load(VocabularyFixtures.HuggingFaceDirectory("deepseek-v3"));
        Assert.Equal(0, files.Tokenizer.BosId);
        Assert.True(files.Tokenizer.AddBos);
        Assert.Equal("<｜begin▁of▁sentence｜>", files.BosToken);
        Assert.Equal("<｜end▁of▁sentence｜>", files.EosToken);
        Assert.Equal(0, files.Tokenizer.Encode("Hi", addSpecial: true)[0]);
    }

    [Fact]
    public void Generation_config_and_chat_template_file_are_read()
    {
        CopyFixture();
        Write("generation_config.json", """{"bos_token_id": 0, "eos_token_id": [10, 8], "temperature": 0.6, "top_p": 0.95, "top_k": 20, "do_sample": true}""");
        Write("tokenizer_config.json", """{"chat_template": "from config", "eos_token": {"__type": "AddedToken", "content": "<y>"}, "add_bos_token": true, "bos_token": "<x>"}""");
        Write("chat_template.jinja", "{{ bos_token }}from file");
        var files = HuggingFaceTokenizerFiles.Load(_directory);
        Assert.Equal(0.6, files.Generation.Temperature);
        Assert.Equal(0.95, files.Generation.TopP);
        Assert.Equal(20, files.Generation.TopK);
        Assert.True(files.Generation.DoSample);
        Assert.Equal([10, 8], files.Generation.EosTokenIds);
        Assert.Equal("{{ bos_token }}from file", files.ChatTemplate);
        // add_bos_token rebuilds the post-processor with bos_token; EOS stays the post-processor's <z>, as the config
        // does not turn EOS on or off. Every EOS (config, generation config, post-processor) ends generation.
        Assert.Equal(7, files.Tokenizer.BosId);
        Assert.Equal(10, files.Tokenizer.EosId);
        Assert.Equal("<y>", files.EosToken);
        Assert.True(files.Tokenizer.AddBos);
        Assert.Contains(10, files.Tokenizer.EndOfGenerationIds);
        Assert.Contains(8, files.Tokenizer.EndOfGenerationIds);
        Assert.Equal([7, 6, 10], files.Tokenizer.Encode("ab", addSpecial: true));
    }

    [Fact]
    public void Named_chat_templates_pick_default()
    {
        CopyFixture();
        Write("tokenizer_config.json", """{"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]}""");
        var files = HuggingFaceTokenizerFiles.Load(_directory);
        Assert.Equal("D", files.ChatTemplate);
        Assert.Equal("T", files.NamedChatTemplates["tool_use"]);
    }

    [Fact]
    public void Without_the_optional_files_the_tokenizer_json_alone_decides()
    {
        CopyFixture();
        var files = HuggingFaceTokenizerFiles.Load(_directory);
        Assert.Null(files.ChatTemplate);
        Assert.Null(files.Generation.Temperature);
        Assert.Empty(files.Generation.EosTokenIds);
        Assert.Equal(10, files.Tokenizer.EosId);
        Assert.True(files.Tokenizer.AddEos);
    }

    [Theory]
    [InlineData("tokenizer_config.json", """{"bos_token": 5}""", "tokenizer_config.json: bos_token")]
    [InlineData("tokenizer_config.json", """{"bos_token": "<nope>"}""", "tokenizer_config.json: bos_token '<nope>' is not a token")]
    [InlineData("tokenizer_config.json", """{"chat_template": 3}""", "tokenizer_config.json: chat_template")]
    [InlineData("tokenizer_config.json", """{"chat_template": [{"name": "default"}]}""", "tokenizer_config.json: chat_template[0].template")]
    [InlineData("tokenizer_config.json", """{"add_bos_token": "yes"}""", "tokenizer_config.json: add_bos_token")]
    [InlineData("tokenizer_config.json", """{"add_bos_token": true}""", "tokenizer_config.json: add_bos_token is true, but no BOS")]
    [InlineData("tokenizer_config.json", "[1]", "tokenizer_config.json: (root)")]
    [InlineData("tokenizer_config.json", "{", "tokenizer_config.json: not valid JSON")]
    [InlineData("tokenizer_config.json", "\uFEFF{\"bos_token\": 1}", "tokenizer_config.json: bos_token")]
    [InlineData("generation_config.json", """{"eos_token_id": "x"}""", "generation_config.json: eos_token_id")]
    [InlineData("generation_config.json", """{"eos_token_id": [1, 2.5]}""", "generation_config.json: eos_token_id[1]")]
    [InlineData("generation_config.json", """{"eos_token_id": [99]}""", "generation_config.json: eos_token_id[0] is 99, outside")]
    [InlineData("generation_config.json", """{"eos_token_id": -1}""", "generation_config.json: eos_token_id")]
    [InlineData("generation_config.json", """{"temperature": -1}""", "generation_config.json: temperature")]
    [InlineData("generation_config.json", """{"top_p": 2}""", "generation_config.json: top_p")]
    [InlineData("generation_config.json", """{"top_k": "many"}""", "generation_config.json: top_k")]
    [InlineData("tokenizer.json", """{"model": {"type": "WordPiece"}}""", "tokenizer.json: model.type")]
    public void Malformed_files_are_rejected_naming_the_file_and_the_field(string file, string content, string message)
    {
        CopyFixture();
        Write(file, content);
        var e = Assert.Throws<TokenizerException>(() => HuggingFaceTokenizerFiles.Load(_directory));
        Assert.Contains(Path.Combine(_directory, message), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_without_tokenizer_json_is_rejected()
    {
        Assert.False(HuggingFaceTokenizerFiles.Exist(_directory));
        var e = Assert.Throws<TokenizerException>(() => HuggingFaceTokenizerFiles.Load(_directory));
        Assert.Contains("tokenizer.json", e.Message, StringComparison.Ordinal);
        Assert.Throws<TokenizerException>(() => HuggingFaceTokenizerFiles.Load(Path.Combine(_directory, "missing")));
    }

    [Fact]
    public void Config_readers_accept_the_shared_r1_files()
    {
        var config = HuggingFaceTokenizerConfig.Read(SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/tokenizer_config.json"));
        Assert.True(config.AddBosToken);
        Assert.Equal("<｜begin▁of▁sentence｜>", config.BosToken);
        Assert.False(config.CleanUpTokenizationSpaces);
        var generation = HuggingFaceGenerationConfig.Read(SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/generation_config.json"));
        Assert.Equal(0.6, generation.Temperature);
        Assert.Equal(0.95, generation.TopP);
        Assert.Equal([128001], generation.EosTokenIds);
        Assert.Equal(128000, generation.BosTokenId);
    }

    private void CopyFixture() =>
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Tokenization", "Data", "byte-level-flags.tokenizer.json"), Path.Combine(_directory, "tokenizer.json"));

    private void Write(string name, string content) => File.WriteAllText(Path.Combine(_directory, name), content);
}
