using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace IdOS.Akka.Engine.Kwil.Transactions;

/// <summary>Thrown for bytes that are not a valid Kwil encoding; the message says where and why.</summary>
public sealed class KwilFormatException(string message) : Exception(message)
{
    public KwilFormatException()
        : this("malformed Kwil encoding")
    {
    }

    public KwilFormatException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>
/// The primitives of kwil-db's binary serialization (v0.10 `core/types`), which fixes transaction hashes: Go's
/// uvarint and zig-zag varint, strings prefixed with a uvarint length, byte strings with a zig-zag varint length
/// (−1 for nil), little-endian fixed-width integers.
/// </summary>
public sealed class KwilWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void WriteUvarint(ulong value)
    {
        while (value >= 0x80)
        {
            WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        WriteByte((byte)value);
    }

    public void WriteVarint(long value) => WriteUvarint((ulong)((value << 1) ^ (value >> 63)));

    public void WriteCompactString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteUvarint((ulong)bytes.Length);
        _buffer.Write(bytes);
    }

    /// <summary>Null is written as length −1, distinct from an empty byte string.</summary>
    public void WriteCompactBytes(ReadOnlySpan<byte> value, bool isNull = false)
    {
        if (isNull)
        {
            WriteVarint(-1);
            return;
        }

        WriteVarint(value.Length);
        _buffer.Write(value);
    }

    public void WriteU16(int value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.GetSpan(2), (ushort)value);
        _buffer.Advance(2);
    }

    public void WriteU64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    private void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }
}

/// <summary>Reads what <see cref="KwilWriter"/> writes, refusing truncation and lengths beyond the caller's limits.</summary>
public ref struct KwilReader(ReadOnlySpan<byte> data)
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly int Remaining => _data.Length - _position;

    public ulong ReadUvarint(string what)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = Take(1, what)[0];
            if (shift == 63 && b > 1)
            {
                throw new KwilFormatException($"{what}: varint overflows 64 bits");
            }

            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new KwilFormatException($"{what}: varint longer than 10 bytes");
    }

    public long ReadVarint(string what)
    {
        var raw = ReadUvarint(what);
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public string ReadCompactString(int maxBytes, string what)
    {
        var length = ReadUvarint(what);
        if (length > (ulong)maxBytes)
        {
            throw new KwilFormatException($"{what} is {length} bytes, above the limit {maxBytes}");
        }

        var bytes = Take((int)length, what);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new KwilFormatException($"{what} is not valid UTF-8");
        }
    }

    /// <summary>Null for the encoded nil (length −1).</summary>
    public byte[]? ReadCompactBytes(int maxBytes, string what) =>
        TryReadCompactSpan(maxBytes, what, out var bytes) ? bytes.ToArray() : null;

    /// <summary>As <see cref="ReadCompactBytes"/> without the copy, for a field decoded further right away; false for nil.</summary>
    public bool TryReadCompactSpan(int maxBytes, string what, out ReadOnlySpan<byte> bytes)
    {
        var length = ReadVarint(what);
        if (length == -1)
        {
            bytes = default;
            return false;
        }

        if (length < 0 || length > maxBytes)
        {
            throw new KwilFormatException($"{what} length {length} is outside 0 to {maxBytes}");
        }

        bytes = Take((int)length, what);
        return true;
    }

    public int ReadU16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));

    public ulong ReadU64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public byte ReadByte(string what) => Take(1, what)[0];

    public readonly void EnsureEnd(string what)
    {
        if (Remaining != 0)
        {
            throw new KwilFormatException($"{Remaining} trailing bytes after {what}");
        }
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count < 0 || Remaining < count)
        {
            throw new KwilFormatException($"{what}: truncated (needed {count} bytes at offset {_position}, have {Remaining})");
        }

        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }
}
