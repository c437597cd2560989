using System.Globalization;
using System.Text;
using Fathom.Engine.Gguf;
using Fathom.Engine.Model;

namespace Fathom.Cli.Commands;

/// <summary>What <c>generate</c> and <c>bench</c> share: loading with a progress line, and one-line errors.</summary>
internal static class ModelCommandSupport
{
    public const int ExitFailure = 2;
    private const long ProgressThresholdBytes = 100L << 20;

    public static LlamaModel Load(string path, int? threads, ComputeBackendKind backend, int? kvBlocks, TextWriter error)
    {
        var showProgress = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error)
            && File.Exists(path) && new FileInfo(path).Length > ProgressThresholdBytes;
        var options = new ModelLoadOptions
        {
            Backend = backend,
            Threads = threads,
            KvBlockCount = kvBlocks,
            LoadProgress = showProgress ? new Progress(error) : null,
        };
        var model = LlamaModel.Load(path, options);
        if (showProgress)
        {
            error.Write("\r" + new string(' ', 60) + "\r");
        }

        return model;
    }

    /// <summary>True for the errors a user can cause (bad file, bad arguments); they print as one line.</summary>
    public static bool IsUserError(Exception e) =>
        e is GgufFormatException or ModelLoadException or IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException;

    public static int Fail(TextWriter error, string verb, Exception e)
    {
        error.WriteLine($"fathom {verb}: {e.Message.ReplaceLineEndings(" ")}");
        return ExitFailure;
    }

    public static int[] ParseIds(string text) =>
        [.. text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id
                : throw new ArgumentException($"'{s}' in --prompt-ids is not a token id"))];

    /// <summary>
    /// SentencePiece-style pieces to text (▁ is a space, <c>&lt;0xNN&gt;</c> a byte), enough to show what a model
    /// writes until the engine's tokenizer decodes for the CLI. Undecodable bytes are held until complete.
    /// </summary>
    public sealed class PieceDecoder(GgufFile file)
    {
        private readonly string[] _pieces = file.Metadata.GetStringArray("tokenizer.ggml.tokens") ?? [];
        private readonly int[] _types = file.Metadata.GetInt32Array("tokenizer.ggml.token_type") ?? [];
        private readonly List<byte> _pending = [];

        public string Decode(int token)
        {
            if ((uint)token >= (uint)_pieces.Length)
            {
                return "";
            }

            var piece = _pieces[token];
            var type = token < _types.Length ? _types[token] : 1;
            if (type == 6 && piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal))
            {
                _pending.Add(byte.Parse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
            else if (type is 3 or 2)
            {
                return "";
            }
            else
            {
                _pending.AddRange(Encoding.UTF8.GetBytes(piece.Replace('\u2581', ' ')));
            }

            var bytes = _pending.ToArray();
            var complete = CompleteLength(bytes);
            var text = Encoding.UTF8.GetString(bytes, 0, complete);
            _pending.RemoveRange(0, complete);
            return text;
        }

        private static int CompleteLength(byte[] bytes)
        {
            // Hold back a trailing, unfinished multi-byte sequence.
            for (var back = 1; back <= Math.Min(3, bytes.Length); back++)
            {
                var b = bytes[^back];
                if ((b & 0xC0) == 0x80)
                {
                    continue;
                }

                var needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
                return needed > back ? bytes.Length - back : bytes.Length;
            }

            return bytes.Length;
        }
    }

    private sealed class Progress(TextWriter error) : IProgress<double>
    {
        public void Report(double value)
        {
            const int Width = 40;
            var filled = (int)Math.Round(value * Width);
            error.Write(string.Create(CultureInfo.InvariantCulture, $"\rloading [{new string('#', filled)}{new string('.', Width - filled)}] {value,4:P0}"));
        }
    }
}
