using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus.Encoding;

/// <summary>
/// Raised only inside the decoder for bytes that are not a canonical encoding; <see cref="ConsensusCodec"/> turns it
/// into a rejection, so it never leaves the core.
/// </summary>
public sealed class MalformedMessageException(string message) : Exception(message)
{
    public MalformedMessageException()
        : this("malformed message")
    {
    }

    public MalformedMessageException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>Reads one value from a reader; throws <see cref="MalformedMessageException"/> on bytes it cannot accept.</summary>
public delegate T CanonicalRead<out T>(ref CanonicalReader reader);

/// <summary>Reads what <see cref="CanonicalWriter"/> wrote, refusing anything that is not exactly canonical.</summary>
public ref struct CanonicalReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public CanonicalReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Remaining => _data.Length - _position;

    /// <summary>
    /// Reads a whole value that must fill <paramref name="bytes"/> exactly, turning malformed input into a reason
    /// instead of an exception: the one place where decoding errors leave the codec.
    /// </summary>
    public static bool TryReadAll<T>(
        ReadOnlySpan<byte> bytes,
        string what,
        CanonicalRead<T> read,
        [NotNullWhen(true)] out T? value,
        [NotNullWhen(false)] out string? error)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            var reader = new CanonicalReader(bytes);
            value = read(ref reader);
            reader.EnsureEnd(what);
            error = null;
            return true;
        }
        catch (MalformedMessageException e)
        {
            value = null;
            error = e.Message;
            return false;
        }
    }

    public readonly int Position => _position;

    public byte ReadU8() => Take(1)[0];

    public int ReadU16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public int ReadU32(int max, string what)
    {
        var value = BinaryPrimitives.ReadUInt32BigEndian(Take(4));
        if (value > (uint)max)
        {
            throw new MalformedMessageException($"{what} is {value}, above the limit {max}");
        }

        return (int)value;
    }

    public long ReadU63(string what)
    {
        var value = BinaryPrimitives.ReadUInt64BigEndian(Take(8));
        if (value > long.MaxValue)
        {
            throw new MalformedMessageException($"{what} does not fit in 63 bits");
        }

        return (long)value;
    }

    public Hash32 ReadHash() => new(Take(Hash32.Size));

    public ReadOnlySpan<byte> ReadFixed(int length) => Take(length);

    public byte[] ReadBytes(int maxLength, string what)
    {
        var length = ReadU32(maxLength, what + " length");
        return Take(length).ToArray();
    }

    public byte[] ReadShortBytes(int maxLength, string what)
    {
        var length = ReadU16();
        if (length > maxLength)
        {
            throw new MalformedMessageException($"{what} length {length} is above the limit {maxLength}");
        }

        return Take(length).ToArray();
    }

    public bool ReadBool() => ReadU8() switch
    {
        0 => false,
        1 => true,
        var other => throw new MalformedMessageException($"boolean byte is {other}, expected 0 or 1"),
    };

    public readonly void EnsureEnd(string what)
    {
        if (_position != _data.Length)
        {
            throw new MalformedMessageException($"{Remaining} trailing bytes after {what}");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || _data.Length - _position < count)
        {
            throw new MalformedMessageException($"truncated: needed {count} bytes at offset {_position}, have {Remaining}");
        }

        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }
}
