using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Reasoning;
using Fathom.Engine.Tokenization;

namespace Fathom.Engine.Serving;

/// <summary>
/// Everything needed to serve one model (GGUF file or Hugging Face model directory): the weights with a KV pool sized from a memory budget, the
/// tokenizer, the chat format, every end-of-generation id and the reasoning parser of the template's family.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private ServedModel(LlamaModel model, Tokenizer tokenizer, GgufChatFormat chat, string name, int maxModelLength)
    {
        Model = model;
        Tokenizer = tokenizer;
        ChatFormat = chat;
        Name = name;
        MaxModelLength = maxModelLength;
        ReasoningParser = chat.Template.CreateReasoningParser();
        ConstraintTokens = new ConstraintTokens(tokenizer);
    }

    /// <summary>The tokens as constrained decoding (response formats, enforced tool calls) sees them; built on first use.</summary>
    public ConstraintTokens ConstraintTokens { get; }

    /// <summary>The weights and the paged KV storage.</summary>
    public LlamaModel Model { get; }

    /// <summary>The GGUF's tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The chat template (or the ChatML fallback) and the BOS/EOS texts.</summary>
    public GgufChatFormat ChatFormat { get; }

    /// <summary>The name clients use for the model.</summary>
    public string Name { get; }

    /// <summary>Most tokens, prompt plus output, one sequence may hold.</summary>
    public int MaxModelLength { get; }

    /// <summary>Every end-of-generation token id of the GGUF (EOS, end of turn…).</summary>
    public IReadOnlySet<int> EndOfGenerationIds => Tokenizer.EndOfGenerationIds;

    /// <summary>Splits reasoning from the answer for reasoning formats (DeepSeek-R1); null otherwise.</summary>
    public IReasoningParser? ReasoningParser { get; }

    /// <summary>Sampling defaults the model ships (a directory's generation_config.json), or null.</summary>
    public GenerationDefaults? GenerationDefaults { get; private init; }

    /// <summary>Loads <paramref name="path"/> (a GGUF file or a Hugging Face model directory) for serving.</summary>
    /// <exception cref="Gguf.GgufFormatException">The file is not valid GGUF.</exception>
    /// <exception cref="Safetensors.SafetensorsFormatException">A file of the model directory is malformed or inconsistent.</exception>
    /// <exception cref="ModelLoadException">The file is not a model Fathom can run, its chat template (or <see cref="ServedModelOptions.ChatTemplatePath"/>'s) cannot be read or fails the load check, or the KV budget holds no block.</exception>
    /// <exception cref="TokenizerException">The file's vocabulary cannot be used.</exception>
    public static ServedModel Load(string path, ServedModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new ServedModelOptions();
        Tokenizer tokenizer;
        GgufChatFormat chat;
        ChatTemplate? templateOverride = LoadTemplateOverride(options.ChatTemplatePath);
        LlamaHyperParameters hp;
        GenerationDefaults? defaults = null;
        if (Directory.Exists(path))
        {
            hp = HuggingFaceHyperParameters.From(Safetensors.HuggingFaceConfig.Read(path));
            var files = HuggingFaceModelFiles.Load(path);
            tokenizer = files.Tokenizer;
            try
            {
                chat = HuggingFaceModelFiles.ReadChatFormat(files, templateOverride);
            }
            catch (ChatTemplateException e)
            {
                throw new ModelLoadException(path, $"the chat template cannot be used: {e.Message}", e);
            }

            defaults = HuggingFaceModelFiles.GenerationDefaults(files.Generation);
        }
        else
        {
            using var file = Gguf.GgufFile.Open(path);
            tokenizer = Tokenizer.Create(GgufTokenizerVocabulary.Read(file.Metadata));
            try
            {
                chat = GgufChatFormat.FromMetadata(file.Metadata, templateOverride: templateOverride);
            }
            catch (ChatTemplateException e)
            {
                // The template is checked at load so that a broken one fails here, once, not on every chat request.
                throw new ModelLoadException(path, $"the chat template cannot be used: {e.Message}", e);
            }

            hp = LlamaHyperParameters.FromGguf(file);
        }

        int context = Math.Min(options.MaxModelLength ?? hp.ContextLength, hp.ContextLength);
        var backend = Backends.Ilgpu.IlgpuBackendSelection.Resolve(options.Backend);
        if (options.GpuMemoryUtilization is not null && options.KvCacheMemoryBytes is not null)
        {
            throw new ModelLoadException(path, "--kv-cache-memory and --gpu-memory-utilization both size the KV cache: give one");
        }

        int blocks = options.GpuMemoryUtilization is null ? KvBlocksFor(hp, options, KvCacheDataTypeSelection.Resolve(options.KvCacheDataType, backend)) : 1;
        if (blocks < 1)
        {
            throw new ModelLoadException(path, $"a KV cache budget of {options.KvCacheMemoryBytes} bytes holds no {options.KvBlockSize}-token block of this model");
        }

        var model = LlamaModel.Load(path, new ModelLoadOptions
        {
            Backend = backend,
            Threads = options.Threads,
            KvCacheDataType = options.KvCacheDataType,
            TensorParallel = options.TensorParallel,
            KvBlockCount = options.GpuMemoryUtilization is null ? blocks : null,
            GpuMemoryUtilization = options.GpuMemoryUtilization,
            KvBlockSize = options.KvBlockSize,
            Quantization = options.Quantization,
        });
        string name = options.ServedName ?? (Directory.Exists(path) ? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path))) : Fathom.Gguf.GgufSplit.ModelName(path));
        return new ServedModel(model, tokenizer, chat, name, context) { GenerationDefaults = defaults };
    }

    // Read before the model so that a wrong --chat-template path fails at once, naming the template file.
    private static ChatTemplate? LoadTemplateOverride(string? path)
    {
        try
        {
            return string.IsNullOrWhiteSpace(path) ? null : ChatTemplateFile.Load(path);
        }
        catch (ChatTemplateException e)
        {
            throw new ModelLoadException(e.Message, e);
        }
    }

    /// <summary>Bytes one token's K and V take across all layers when the cache holds <paramref name="dataType"/>.</summary>
    public static long KvBytesPerToken(LlamaHyperParameters hyperParameters, KvCacheDataType dataType)
    {
        ArgumentNullException.ThrowIfNull(hyperParameters);
        return KvCacheSizing.BytesPerToken(hyperParameters.LayerCount, hyperParameters.KvLength, dataType);
    }

    /// <summary>Renders <paramref name="messages"/> with the chat template (or <paramref name="template"/>) and tokenizes the prompt.</summary>
    /// <exception cref="ChatTemplateException">The template rejected the messages.</exception>
    public int[] EncodeChat(IReadOnlyList<ChatMessage> messages, ChatTemplateRenderOptions? options = null, ChatTemplate? template = null)
    {
        string text = (template ?? ChatFormat.Template).Render(messages, options ?? ChatFormat.RenderOptions());
        // Templates that write the BOS text themselves must not get a second one from the tokenizer.
        bool hasBos = ChatFormat.BosToken.Length > 0 && text.StartsWith(ChatFormat.BosToken, StringComparison.Ordinal);
        return Tokenizer.Encode(text, addSpecial: !hasBos, parseSpecial: true);
    }

    /// <summary>Tokenizes a raw completion prompt (with BOS where the vocabulary asks for it).</summary>
    public int[] EncodePrompt(string prompt) => Tokenizer.Encode(prompt, addSpecial: true, parseSpecial: false);

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();

    // The budget's worth of blocks, but never more than the whole context 256 times over (no point beyond).
    private static int KvBlocksFor(LlamaHyperParameters hp, ServedModelOptions options, KvCacheDataType dataType)
    {
        long budget = options.KvCacheMemoryBytes ?? ServedModelOptions.DefaultKvCacheMemoryBytes;
        if (budget <= 0)
        {
            return 0;
        }

        int blocks = KvCacheSizing.BlocksFor(budget, KvBytesPerToken(hp, dataType), options.KvBlockSize);
        long cap = 256L * ((hp.ContextLength + options.KvBlockSize - 1) / options.KvBlockSize);
        return (int)Math.Min(blocks, cap);
    }
}
