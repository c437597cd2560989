using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Fathom.Engine.Tests.Tokenization;

/// <summary>llama.cpp's tokenizer (through LLamaSharp's native build), loaded vocab-only from a GGUF file.</summary>
internal sealed class LlamaCppReference : IDisposable
{
    private static readonly Lock LoadLock = new();
    private static bool _configured;
    private readonly LLamaWeights _weights;

    private LlamaCppReference(LLamaWeights weights) => _weights = weights;

    public static LlamaCppReference Load(string path)
    {
        lock (LoadLock)
        {
            if (!_configured)
            {
                _configured = true;
                try
                {
                    // Quiet llama.cpp's load log; another test may have loaded the library first, which is fine.
                    NativeLibraryConfig.All.WithLogCallback((_, _) => { });
                }
                catch (InvalidOperationException)
                {
                }
            }
            var parameters = new ModelParams(path) { VocabOnly = true, GpuLayerCount = 0 };
            return new LlamaCppReference(LLamaWeights.LoadFromFile(parameters));
        }
    }

    public int[] Tokenize(string text, bool addBos, bool special) =>
        [.. _weights.Tokenize(text, addBos, special, Encoding.UTF8).Select(t => (int)t)];

    public byte[] Piece(int token, bool special)
    {
        var buffer = new byte[256];
        var length = _weights.NativeHandle.TokenToSpan((LLamaToken)token, buffer, 0, special);
        return buffer.AsSpan(0, (int)length).ToArray();
    }

    public void Dispose() => _weights.Dispose();
}
