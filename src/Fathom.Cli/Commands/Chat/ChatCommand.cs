using System.CommandLine;

namespace Fathom.Cli.Commands.Chat;

/// <summary>
/// <c>fathom chat (--model FILE | --url URL) [--prompt TEXT]</c>: a terminal chat with a model run in this process or
/// with a running API or engine service; with <c>--prompt</c>, one answer printed alone for scripts.
/// </summary>
internal static class ChatCommand
{
    /// <summary>The environment variable read for the API key when <c>--api-key</c> is not given.</summary>
    public const string ApiKeyVariable = "FATHOM_API_KEY";

    /// <param name="input">Where messages are read from; the console's input when null.</param>
    public static Command Create(TextReader? input = null)
    {
        var model = new Option<string?>("--model") { Description = "A GGUF model file, a Hugging Face model directory, or a model reference (hf.co/ORG/REPO:QUANT, pulled into the store when missing) to run in this process; with --url, the served model's name (default: the server's first)." };
        var url = new Option<string?>("--url") { Description = "A running Fathom API or engine service (or any OpenAI-compatible server), e.g. http://localhost:5000." };
        var apiKey = new Option<string?>("--api-key") { Description = $"The API key for --url (default: ${ApiKeyVariable})." };
        var prompt = new Option<string?>("--prompt") { Description = "Ask once, print only the answer and exit (for scripts)." };
        var system = new Option<string?>("--system") { Description = "The system prompt." };
        var hideReasoning = new Option<bool>("--hide-reasoning") { Description = "Fold a reasoning model's thinking into one line (\"thought for N tokens\")." };
        var temperature = new Option<float?>("--temperature") { Description = "Softmax temperature; 0 is greedy (default: the server's, 1 in process)." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Most tokens per answer (default: until the model ends its turn)." };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for --model (default: physical cores)." };
        var backend = ModelCommandSupport.BackendOption();
        var chatTemplate = ModelCommandSupport.ChatTemplateOption();
        var quantize = ModelCommandSupport.QuantizeOption();
        var modelsDir = ModelStoreSupport.StoreOption();
        var noColor = new Option<bool>("--no-color") { Description = "No dimming of reasoning and numbers (also when NO_COLOR is set or the output is not a terminal)." };
        var command = new Command("chat", "Chat with a model in the terminal: streaming, reasoning shown apart, /clear, /system, multi-line input.")
        {
            model, url, apiKey, prompt, system, hideReasoning, temperature, maxTokens, threads, backend, chatTemplate, quantize, modelsDir, noColor,
        };
        command.SetAction((r, ct) =>
        {
            var output = r.InvocationConfiguration.Output;
            var color = !r.GetValue(noColor) && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
                && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
            var request = new Request(r.GetValue(model), r.GetValue(url), r.GetValue(apiKey) ?? Environment.GetEnvironmentVariable(ApiKeyVariable),
                r.GetValue(prompt), r.GetValue(system), r.GetValue(hideReasoning), new ChatSettings(r.GetValue(temperature), r.GetValue(maxTokens)),
                r.GetValue(threads), r.GetValue(backend) ?? "auto", color, r.GetValue(chatTemplate), r.GetValue(modelsDir), r.GetValue(quantize));
            return RunAsync(request, input, output, r.InvocationConfiguration.Error, ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(Request request, TextReader? input, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        IChatBackend backend;
        try
        {
            backend = await OpenAsync(request, error, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ChatBackendException || ModelCommandSupport.IsUserError(e) || e is Engine.Tokenization.TokenizerException)
        {
            return ModelCommandSupport.Fail(error, "chat", e);
        }

        await using (backend.ConfigureAwait(false))
        {
            var chat = new ChatConsole(backend, output, error, request.Settings, request.System, request.HideReasoning, request.Color);
            if (request.Prompt is { } prompt)
            {
                return await chat.AnswerOnceAsync(prompt, cancellationToken).ConfigureAwait(false);
            }

            // Ctrl+C stops the answer on screen; with none running it only reminds how to leave, so a stray press loses nothing.
            void OnCancel(object? sender, ConsoleCancelEventArgs e)
            {
                e.Cancel = true;
                if (!chat.CancelAnswer())
                {
                    error.WriteLine("(Ctrl+D or /bye quits)");
                }
            }

            var console = input is null;
            if (console)
            {
                Console.CancelKeyPress += OnCancel;
            }

            try
            {
                return await chat.RunAsync(input ?? Console.In, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (console)
                {
                    Console.CancelKeyPress -= OnCancel;
                }
            }
        }
    }

    private static async Task<IChatBackend> OpenAsync(Request request, TextWriter error, CancellationToken cancellationToken)
    {
        if (request.Url is { } url)
        {
            return await RemoteChatBackend.ConnectAsync(url, request.ApiKey, request.Model, cancellationToken).ConfigureAwait(false);
        }

        if (request.Model is { } path)
        {
            string file = ModelStoreSupport.Resolve(path, error, request.ModelsDir);
            return LocalChatBackend.Load(file, ModelCommandSupport.ParseBackend(request.Backend), request.Threads, request.ChatTemplate, ModelCommandSupport.ParseQuantize(request.Quantize));
        }

        throw new ArgumentException("give --model FILE (run it here) or --url URL (a running API or engine service)");
    }

    private sealed record Request(string? Model, string? Url, string? ApiKey, string? Prompt, string? System, bool HideReasoning,
        ChatSettings Settings, int? Threads, string Backend, bool Color, string? ChatTemplate, string? ModelsDir, string? Quantize);
}
