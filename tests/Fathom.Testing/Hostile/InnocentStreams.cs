using System.ClientModel;
using System.Collections.Concurrent;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace Fathom.Testing.Hostile;

/// <summary>
/// The innocent bystanders of the hostile-traffic suite: four greedy chat streams (temperature 0, a fixed
/// <c>max_tokens</c>) through the official OpenAI .NET client. Their solo outputs are recorded first; while hostile
/// traffic runs they stream again and again, and every output must equal its solo run byte for byte.
/// </summary>
public sealed class InnocentStreams
{
    private static readonly string[] Prompts = ["Lily saw a big tree and", "Tom had a red ball and", "Once upon a time, a cat", "Sue went to the sea and"];
    private readonly ChatClient _chat;
    private readonly ChatCompletionOptions _options;
    private string[]? _solo;

    /// <param name="v1">The API root, e.g. <c>http://127.0.0.1:PORT/v1</c>.</param>
    /// <param name="model">The served model's id.</param>
    /// <param name="apiKey">The bearer key (engines ignore it).</param>
    /// <param name="maxTokens">Tokens per stream.</param>
    public InnocentStreams(Uri v1, string model, string apiKey = "unused", int maxTokens = 24)
    {
        _chat = new ChatClient(model, new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = v1, NetworkTimeout = TimeSpan.FromSeconds(60) });
        _options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = maxTokens };
    }

    /// <summary>The solo outputs, one per prompt (after <see cref="RecordSoloAsync"/>).</summary>
    public IReadOnlyList<string> Solo => _solo ?? throw new InvalidOperationException("record the solo runs first");

    /// <summary>Streams each prompt alone, one after another, and keeps the texts as the reference.</summary>
    public async Task RecordSoloAsync(CancellationToken cancellationToken)
    {
        var solo = new string[Prompts.Length];
        for (int i = 0; i < Prompts.Length; i++)
        {
            solo[i] = await StreamAsync(Prompts[i], cancellationToken);
        }

        _solo = solo;
    }

    /// <summary>
    /// Streams all four prompts concurrently, each over and over until <paramref name="until"/> completes (at least
    /// once, at most <paramref name="maxRounds"/> times each); every output is compared with its solo run.
    /// </summary>
    public async Task<InnocentResult> RunUntilAsync(Task until, int maxRounds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(until);
        var solo = Solo;
        var failures = new ConcurrentQueue<string>();
        int runs = 0;
        await Task.WhenAll(Enumerable.Range(0, Prompts.Length).Select(i => Task.Run(async () =>
        {
            for (int round = 0; round < maxRounds && (round == 0 || !until.IsCompleted); round++)
            {
                try
                {
                    string text = await StreamAsync(Prompts[i], cancellationToken);
                    Interlocked.Increment(ref runs);
                    if (text != solo[i])
                    {
                        failures.Enqueue($"stream {i} round {round}: \"{text}\" differs from its solo run \"{solo[i]}\"");
                    }
                }
                catch (Exception e) when (e is ClientResultException or HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref runs);
                    failures.Enqueue($"stream {i} round {round}: {e.GetType().Name}: {e.Message}");
                }
            }
        }, cancellationToken)));
        return new InnocentResult(runs, [.. failures]);
    }

    private async Task<string> StreamAsync(string prompt, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in _chat.CompleteChatStreamingAsync([new UserChatMessage(prompt)], _options, cancellationToken))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        // A stream that stops without a finish reason was cut short, whatever text it had.
        return finish is null ? text.Append("\u2026(no finish reason)").ToString() : text.ToString();
    }
}

/// <summary>How the innocent streams fared: how many ran, and each one that differed from its solo run or failed.</summary>
/// <param name="Runs">Streams completed or failed.</param>
/// <param name="Failures">One line per stream that did not equal its solo run.</param>
public sealed record InnocentResult(int Runs, IReadOnlyList<string> Failures)
{
    /// <summary>Whether every stream equalled its solo run.</summary>
    public bool AllMatched => Failures.Count == 0 && Runs > 0;
}
