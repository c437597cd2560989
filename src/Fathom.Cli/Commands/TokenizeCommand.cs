using System.CommandLine;
using System.Text.Json;
using Fathom.Gguf;
using Fathom.Engine.Tokenization;

namespace Fathom.Cli.Commands;

/// <summary>
/// <c>fathom tokenize --model FILE.gguf|DIR --text TEXT [--bos] [--special] [--json]</c>: the ids llama.cpp would give
/// for a GGUF file, or Hugging Face would give for a model directory's tokenizer files (tokenizer.json, tokenizer_config.json).
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF file whose tokenizer.ggml.* vocabulary to use, or a Hugging Face model directory with tokenizer.json", Required = true };
        var text = new Option<string>("--text", "-t") { Description = "Text to tokenize", Required = true };
        var bos = new Option<bool>("--bos") { Description = "Add BOS (and EOS) where the vocabulary asks for them" };
        var special = new Option<bool>("--special") { Description = "Parse special-token texts such as <|eot_id|> into their ids" };
        var json = new Option<bool>("--json") { Description = "Print {\"ids\":[...]} instead of one id per space" };

        var command = new Command("tokenize", "Print the token ids of a text, as llama.cpp (GGUF) or Hugging Face (model directory) tokenizes it")
        {
            model, text, bos, special, json,
        };
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            var path = result.GetValue(model)!;
            try
            {
                var resolved = ModelStoreSupport.Resolve(path, error);
                var tokenizer = Directory.Exists(resolved)
                    ? HuggingFaceTokenizerFiles.Load(resolved).Tokenizer
                    : GgufTokenizerVocabulary.CreateTokenizer(resolved);
                var ids = tokenizer.Encode(result.GetValue(text) ?? "", result.GetValue(bos), result.GetValue(special));
                output.WriteLine(result.GetValue(json)
                    ? JsonSerializer.Serialize(new TokenizeResult(ids), TokenizeJsonContext.Default.TokenizeResult)
                    : string.Join(' ', ids));
                return 0;
            }
            catch (Exception e) when (e is GgufFormatException or TokenizerException or Fathom.Models.ModelPullException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"fathom tokenize: {OneLine(e.Message)}");
                return 2;
            }
        });
        return command;
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
