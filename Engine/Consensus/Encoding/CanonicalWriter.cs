using System.Buffers;
using System.Buffers.Binary;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus.Encoding;

/// <summary>
/// Writes the one canonical encoding used for hashing, signing and the wire: big-endian fixed-width integers,
/// length-prefixed byte strings, no optional padding. Equal values always produce equal bytes.
/// </summary>
public sealed class CanonicalWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public CanonicalWriter(int initialCapacity = 256)
    {
        _buffer = new ArrayBufferWriter<byte>(initialCapacity);
    }

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void WriteU8(int value)
    {
        _buffer.GetSpan(1)[0] = checked((byte)value);
        _buffer.Advance(1);
    }

    public void WriteU16(int value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.GetSpan(2), checked((ushort)value));
        _buffer.Advance(2);
    }

    public void WriteU32(int value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), checked((uint)value));
        _buffer.Advance(4);
    }

    /// <summary>Rounds, heights and timestamps are non-negative 63-bit values carried in eight bytes.</summary>
    public void WriteU63(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.GetSpan(8), (ulong)value);
        _buffer.Advance(8);
    }

    public void WriteHash(Hash32 hash)
    {
        hash.WriteTo(_buffer.GetSpan(Hash32.Size));
        _buffer.Advance(Hash32.Size);
    }

    public void WriteFixed(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteU32(bytes.Length);
        _buffer.Write(bytes);
    }

    public void WriteShortBytes(ReadOnlySpan<byte> bytes)
    {
        WriteU16(bytes.Length);
        _buffer.Write(bytes);
    }

    public void WriteString(string value) => WriteShortBytes(System.Text.Encoding.UTF8.GetBytes(value));

    public void WriteBool(bool value) => WriteU8(value ? 1 : 0);
}
