using Fathom.Gguf;

namespace Fathom.Engine.Model;

/// <summary>A GGUF file's tensors, as they are.</summary>
internal sealed unsafe class GgufTensorSource : ModelTensorSource
{
    private readonly GgufFile _file;
    private readonly Dictionary<string, ModelTensor> _byName;

    public GgufTensorSource(GgufFile file)
    {
        _file = file;
        Tensors = file.Tensors.Select(t => new ModelTensor(t.Name, t.Type, t.Dimensions, file.GetTensorPointer(t), t.ByteSize, t.Name, file.FilePath)).ToList();
        _byName = Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public override string Path => _file.FilePath;

    public override IReadOnlyList<string> FilePaths => _file.PartPaths;

    public override IReadOnlyList<ModelTensor> Tensors { get; }

    public override GgufFile Gguf => _file;

    public override ModelTensor? Find(string name) => _byName.GetValueOrDefault(name);

    public override LlamaHyperParameters ReadHyperParameters() => LlamaHyperParameters.FromGguf(_file);

    public override void Dispose() => _file.Dispose();
}
