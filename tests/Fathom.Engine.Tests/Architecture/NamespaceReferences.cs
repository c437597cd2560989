using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Fathom.Engine.Tests.Architecture;

/// <summary>
/// Reads which types each type of an assembly uses: its base type and interfaces, the signatures of its fields,
/// methods and properties, and every type, method and field token in its method bodies (locals included).
/// Compiled metadata, not source, so a fully qualified name or a <c>var</c> cannot hide a reference.
/// </summary>
internal static class NamespaceReferences
{
    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value, o => o.OperandType);

    /// <summary>Each (using type, used type) pair, by full name, for the types of <paramref name="assemblyPath"/>.</summary>
    public static IReadOnlyList<(string From, string To)> Read(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var md = pe.GetMetadataReader();
        var edges = new HashSet<(string, string)>();
        foreach (var handle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(handle);
            string from = Name(md, handle);
            var sink = new Sink(md);
            sink.Add(type.BaseType);
            foreach (var i in type.GetInterfaceImplementations())
            {
                sink.Add(md.GetInterfaceImplementation(i).Interface);
            }

            foreach (var f in type.GetFields())
            {
                md.GetFieldDefinition(f).DecodeSignature(sink, null);
            }

            foreach (var p in type.GetProperties())
            {
                md.GetPropertyDefinition(p).DecodeSignature(sink, null);
            }

            foreach (var m in type.GetMethods())
            {
                var method = md.GetMethodDefinition(m);
                method.DecodeSignature(sink, null);
                if (method.RelativeVirtualAddress != 0)
                {
                    ReadBody(pe, md, method, sink);
                }
            }

            foreach (string to in sink.Types)
            {
                edges.Add((from, to));
            }
        }

        return [.. edges];
    }

    private static void ReadBody(PEReader pe, MetadataReader md, MethodDefinition method, Sink sink)
    {
        var body = pe.GetMethodBody(method.RelativeVirtualAddress);
        if (!body.LocalSignature.IsNil)
        {
            md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(sink, null);
        }

        var il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            short code = il.ReadByte();
            if (code == 0xFE)
            {
                code = (short)(0xFE00 | il.ReadByte());
            }

            if (!Operands.TryGetValue(code, out var operand))
            {
                throw new InvalidOperationException($"Unknown opcode {code:X} at {il.Offset - 1} in {md.GetString(method.Name)} of {Name(md, method.GetDeclaringType())}");
            }

            switch (operand)
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineType:
                case OperandType.InlineTok:
                    sink.Add(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                case OperandType.InlineSwitch:
                    int targets = il.ReadInt32();
                    il.Offset += 4 * targets;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    il.Offset += 8;
                    break;
                default: // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                    il.Offset += 4;
                    break;
            }
        }
    }

    private static string Name(MetadataReader md, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        var declaring = type.GetDeclaringType();
        return declaring.IsNil
            ? $"{md.GetString(type.Namespace)}.{md.GetString(type.Name)}"
            : $"{Name(md, declaring)}+{md.GetString(type.Name)}";
    }

    private static string Name(MetadataReader md, TypeReferenceHandle handle)
    {
        var type = md.GetTypeReference(handle);
        return type.ResolutionScope.Kind == HandleKind.TypeReference
            ? $"{Name(md, (TypeReferenceHandle)type.ResolutionScope)}+{md.GetString(type.Name)}"
            : $"{md.GetString(type.Namespace)}.{md.GetString(type.Name)}";
    }

    /// <summary>Collects type names; as a signature provider it records every type a signature mentions.</summary>
    private sealed class Sink(MetadataReader md) : ISignatureTypeProvider<object?, object?>
    {
        public HashSet<string> Types { get; } = new(StringComparer.Ordinal);

        public void Add(EntityHandle handle)
        {
            if (handle.IsNil)
            {
                return; // e.g. no base type (interfaces, <Module>)
            }

            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    Types.Add(Name(md, (TypeDefinitionHandle)handle));
                    break;
                case HandleKind.TypeReference:
                    Types.Add(Name(md, (TypeReferenceHandle)handle));
                    break;
                case HandleKind.TypeSpecification:
                    md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null);
                    break;
                case HandleKind.FieldDefinition:
                    Add(md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.MethodDefinition:
                    Add(md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.MemberReference:
                    var member = md.GetMemberReference((MemberReferenceHandle)handle);
                    Add(member.Parent);
                    break;
                case HandleKind.MethodSpecification:
                    var spec = md.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Add(spec.Method);
                    spec.DecodeSignature(this, null);
                    break;
            }
        }

        public object? GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            Types.Add(Name(reader, handle));
            return null;
        }

        public object? GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            Types.Add(Name(reader, handle));
            return null;
        }

        public object? GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind)
        {
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
            return null;
        }

        public object? GetPrimitiveType(PrimitiveTypeCode typeCode) => null;

        public object? GetSZArrayType(object? elementType) => null;

        public object? GetArrayType(object? elementType, ArrayShape shape) => null;

        public object? GetByReferenceType(object? elementType) => null;

        public object? GetPointerType(object? elementType) => null;

        public object? GetPinnedType(object? elementType) => null;

        public object? GetGenericInstantiation(object? genericType, ImmutableArray<object?> typeArguments) => null;

        public object? GetGenericMethodParameter(object? genericContext, int index) => null;

        public object? GetGenericTypeParameter(object? genericContext, int index) => null;

        public object? GetFunctionPointerType(MethodSignature<object?> signature) => null;

        public object? GetModifiedType(object? modifier, object? unmodifiedType, bool isRequired) => null;
    }
}
