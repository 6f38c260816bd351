using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace IdOS.Akka.Engine.Kwil.Transactions;

/// <summary>A Kwil value type as sent on the wire: the name (aliases folded), whether it is an array, numeric precision and scale.</summary>
public sealed record KwilDataType(string Name, bool IsArray, int Precision = 0, int Scale = 0)
{
    public static readonly KwilDataType Text = new("text", false);
    public static readonly KwilDataType WholeNumber = new("int8", false);
    public static readonly KwilDataType Bool = new("bool", false);
    public static readonly KwilDataType Uuid = new("uuid", false);
    public static readonly KwilDataType Bytea = new("bytea", false);
    public static readonly KwilDataType Null = new("null", false);

    private static readonly (byte[] Alias, string Name)[] Aliases =
    [
        ("text"u8.ToArray(), "text"), ("string"u8.ToArray(), "text"),
        ("int8"u8.ToArray(), "int8"), ("int"u8.ToArray(), "int8"), ("integer"u8.ToArray(), "int8"), ("bigint"u8.ToArray(), "int8"),
        ("bool"u8.ToArray(), "bool"), ("boolean"u8.ToArray(), "bool"),
        ("uuid"u8.ToArray(), "uuid"),
        ("bytea"u8.ToArray(), "bytea"), ("blob"u8.ToArray(), "bytea"),
        ("numeric"u8.ToArray(), "numeric"), ("decimal"u8.ToArray(), "numeric"),
        ("null"u8.ToArray(), "null"),
    ];

    private static readonly Dictionary<string, KwilDataType> Scalars =
        new KwilDataType[] { Text, WholeNumber, Bool, Uuid, Bytea, Null }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The names the server accepts for each type.</summary>
    public static string Canonical(string name) => CanonicalName(Encoding.ASCII.GetBytes(name))
        ?? throw new KwilFormatException($"type '{name.ToLowerInvariant()}' is unknown");

    /// <summary>The type a payload names; the common scalars are shared instances, since every argument decoded names one.</summary>
    public static KwilDataType Of(ReadOnlySpan<byte> name, bool isArray, int precision, int scale)
    {
        var canonical = CanonicalName(name)
            ?? throw new KwilFormatException($"type '{Encoding.ASCII.GetString(name).ToLowerInvariant()}' is unknown");
        return !isArray && precision == 0 && scale == 0 && Scalars.TryGetValue(canonical, out var scalar)
            ? scalar
            : new KwilDataType(canonical, isArray, precision, scale);
    }

    private static string? CanonicalName(ReadOnlySpan<byte> name)
    {
        foreach (var (alias, canonical) in Aliases)
        {
            if (Ascii.EqualsIgnoreCase(name, alias))
            {
                return canonical;
            }
        }

        return null;
    }
}

/// <summary>
/// One argument: its type and its elements (one for a scalar), each null for SQL NULL or the raw bytes (text as
/// UTF-8, int8 as 8-byte big-endian, bool as one byte, uuid as 16 bytes, numeric as a decimal string).
/// </summary>
public sealed record KwilValue(KwilDataType Type, IReadOnlyList<byte[]?> Elements)
{
    public static KwilValue OfText(string? text) => new(KwilDataType.Text, [text is null ? null : Encoding.UTF8.GetBytes(text)]);

    public static KwilValue OfWholeNumber(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return new KwilValue(KwilDataType.WholeNumber, [bytes]);
    }

    public static KwilValue OfUuid(Guid? value) => new(KwilDataType.Uuid, [value?.ToByteArray(bigEndian: true)]);
}

/// <summary>An `execute` transaction's payload: one action of one namespace, called once per argument list.</summary>
public sealed record ActionExecution(string Namespace, string Action, IReadOnlyList<IReadOnlyList<KwilValue>> Calls);

/// <summary>A `user.call` (view) payload: one action, one argument list.</summary>
public sealed record ActionCall(string Namespace, string Action, IReadOnlyList<KwilValue> Arguments);

/// <summary>
/// kwil-db v0.10's action payload encoding: little-endian u16/u32 framing, with the data
/// type's own fields big-endian. Decoding refuses unknown versions and types, truncation and trailing bytes.
/// </summary>
public static class ActionPayload
{
    private const int MaxNameBytes = 256;
    private const int MaxValueBytes = 1 << 20;

    public static byte[] Encode(ActionExecution execution)
    {
        ArgumentNullException.ThrowIfNull(execution);
        var writer = new ArrayBufferWriter<byte>();
        U16(writer, 0);
        String(writer, execution.Namespace);
        String(writer, execution.Action);
        U16(writer, execution.Calls.Count);
        foreach (var call in execution.Calls)
        {
            Arguments(writer, call);
        }

        return writer.WrittenSpan.ToArray();
    }

    public static byte[] Encode(ActionCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var writer = new ArrayBufferWriter<byte>();
        U16(writer, 0);
        String(writer, call.Namespace);
        String(writer, call.Action);
        Arguments(writer, call.Arguments);
        return writer.WrittenSpan.ToArray();
    }

    public static ActionExecution DecodeExecution(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes);
        reader.Version("action execution");
        var ns = reader.String("namespace");
        var action = reader.String("action");
        var count = reader.U16("call count");
        var calls = new List<IReadOnlyList<KwilValue>>(count);
        for (var i = 0; i < count; i++)
        {
            calls.Add(reader.Arguments());
        }

        reader.End("the action execution");
        return new ActionExecution(ns, action, calls);
    }

    public static ActionCall DecodeCall(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes);
        reader.Version("action call");
        var ns = reader.String("namespace");
        var action = reader.String("action");
        var arguments = reader.Arguments();
        reader.End("the action call");
        return new ActionCall(ns, action, arguments);
    }

    private static void Arguments(ArrayBufferWriter<byte> writer, IReadOnlyList<KwilValue> arguments)
    {
        U16(writer, arguments.Count);
        foreach (var argument in arguments)
        {
            var value = new ArrayBufferWriter<byte>();
            U16(value, 0);
            var type = new ArrayBufferWriter<byte>();
            BinaryPrimitives.WriteUInt16BigEndian(type.GetSpan(2), 0);
            type.Advance(2);
            var name = Encoding.UTF8.GetBytes(argument.Type.Name);
            BinaryPrimitives.WriteUInt32BigEndian(type.GetSpan(4), (uint)name.Length);
            type.Advance(4);
            type.Write(name);
            type.Write([(byte)(argument.Type.IsArray ? 1 : 0)]);
            BinaryPrimitives.WriteUInt16BigEndian(type.GetSpan(2), (ushort)argument.Type.Precision);
            type.Advance(2);
            BinaryPrimitives.WriteUInt16BigEndian(type.GetSpan(2), (ushort)argument.Type.Scale);
            type.Advance(2);
            Bytes(value, type.WrittenSpan);
            U16(value, argument.Elements.Count);
            foreach (var element in argument.Elements)
            {
                Bytes(value, element is null ? [0] : [1, .. element]);
            }

            Bytes(writer, value.WrittenSpan);
        }
    }

    private static void U16(ArrayBufferWriter<byte> writer, int value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(writer.GetSpan(2), (ushort)value);
        writer.Advance(2);
    }

    private static void Bytes(ArrayBufferWriter<byte> writer, ReadOnlySpan<byte> bytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(writer.GetSpan(4), (uint)bytes.Length);
        writer.Advance(4);
        writer.Write(bytes);
    }

    private static void String(ArrayBufferWriter<byte> writer, string value) => Bytes(writer, Encoding.UTF8.GetBytes(value));

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>
    /// What a reader is reading, for its error messages: composed only when one is thrown, since a transaction's
    /// every argument passes through here on every validator.
    /// </summary>
    private readonly record struct Field(string Name, int Argument = -1, int Element = -1, string Suffix = "")
    {
        public static implicit operator Field(string name) => new(name);

        public Field With(string suffix) => this with { Suffix = Suffix + suffix };

        public override string ToString() => (Argument < 0 ? Name
            : Element < 0 ? $"argument {Argument}{Name}"
            : $"argument {Argument} element {Element}") + Suffix;
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public void Version(Field what)
        {
            var version = U16(what.With(" version"));
            if (version != 0)
            {
                throw new KwilFormatException($"{what} version {version} is unknown");
            }
        }

        public int U16(Field what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));

        public string String(Field what)
        {
            var bytes = Bytes(MaxNameBytes, what);
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw new KwilFormatException($"{what} is not valid UTF-8");
            }
        }

        public List<KwilValue> Arguments()
        {
            var count = U16("argument count");
            var arguments = new List<KwilValue>(count);
            for (var i = 0; i < count; i++)
            {
                var value = new Reader(Bytes(MaxValueBytes, new Field("", i)));
                arguments.Add(value.Value(i));
                value.End(new Field("", i));
            }

            return arguments;
        }

        public readonly void End(Field what)
        {
            if (_position != _data.Length)
            {
                throw new KwilFormatException($"{_data.Length - _position} trailing bytes after {what}");
            }
        }

        private KwilValue Value(int index)
        {
            Version(new Field("", index));
            var type = new Reader(Bytes(MaxNameBytes, new Field(" type", index)));
            var dataType = type.DataType(index);
            type.End(new Field(" type", index));
            var count = U16(new Field(" element count", index));
            if (!dataType.IsArray && count != 1)
            {
                throw new KwilFormatException($"argument {index} is a scalar {dataType.Name} with {count} elements");
            }

            var elements = new List<byte[]?>(count);
            for (var i = 0; i < count; i++)
            {
                var element = Bytes(MaxValueBytes, new Field("", index, i));
                elements.Add(element switch
                {
                    [0] => null,
                    [1, ..] => element[1..].ToArray(),
                    _ => throw new KwilFormatException($"argument {index} element {i} starts with neither 0 (NULL) nor 1"),
                });
            }

            return new KwilValue(dataType, elements);
        }

        private KwilDataType DataType(int index)
        {
            var version = BinaryPrimitives.ReadUInt16BigEndian(Take(2, "type version"));
            if (version != 0)
            {
                throw new KwilFormatException($"argument {index} type version {version} is unknown");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(Take(4, "type name length"));
            if (length > MaxNameBytes)
            {
                throw new KwilFormatException($"argument {index} type name of {length} bytes");
            }

            var name = Take((int)length, "type name");
            var isArray = Take(1, "is_array")[0] switch
            {
                0 => false,
                1 => true,
                var other => throw new KwilFormatException($"argument {index} is_array byte is {other}"),
            };
            var precision = BinaryPrimitives.ReadUInt16BigEndian(Take(2, "precision"));
            var scale = BinaryPrimitives.ReadUInt16BigEndian(Take(2, "scale"));
            return KwilDataType.Of(name, isArray, precision, scale);
        }

        private ReadOnlySpan<byte> Bytes(int max, Field what)
        {
            var length = BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what.With(" length")));
            if (length > (uint)max)
            {
                throw new KwilFormatException($"{what} is {length} bytes, above the limit {max}");
            }

            return Take((int)length, what);
        }

        private ReadOnlySpan<byte> Take(int count, Field what)
        {
            if (_data.Length - _position < count)
            {
                throw new KwilFormatException($"{what}: truncated at offset {_position}");
            }

            var slice = _data.Slice(_position, count);
            _position += count;
            return slice;
        }
    }
}
