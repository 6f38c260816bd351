using System.Buffers.Binary;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus.Encoding;

/// <summary>
/// Writes the one canonical encoding used for hashing, signing and the wire: big-endian fixed-width integers,
/// length-prefixed byte strings, no optional padding. Equal values always produce equal bytes.
/// </summary>
public sealed class CanonicalWriter
{
    private byte[] _buffer;
    private int _length;

    /// <param name="initialCapacity">
    /// The expected length: a writer filled to exactly its capacity hands over its buffer in <see cref="ToArray"/>
    /// without a copy, so encoders that know the size allocate the message once.
    /// </param>
    public CanonicalWriter(int initialCapacity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCapacity);
        _buffer = new byte[initialCapacity];
    }

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>
    /// The bytes written. A full buffer is handed over as it is: any later write would have to grow it into a new
    /// array, so the one returned never changes.
    /// </summary>
    public byte[] ToArray() => _length == _buffer.Length ? _buffer : _buffer.AsSpan(0, _length).ToArray();

    // Each value is converted before its bytes are reserved: an out-of-range value throws with the writer unchanged.
    public void WriteU8(int value)
    {
        var narrowed = checked((byte)value);
        Reserve(1)[0] = narrowed;
    }

    public void WriteU16(int value)
    {
        var narrowed = checked((ushort)value);
        BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), narrowed);
    }

    public void WriteU32(int value)
    {
        var narrowed = checked((uint)value);
        BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), narrowed);
    }

    /// <summary>Rounds, heights and timestamps are non-negative 63-bit values carried in eight bytes.</summary>
    public void WriteU63(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        BinaryPrimitives.WriteUInt64BigEndian(Reserve(8), (ulong)value);
    }

    public void WriteHash(Hash32 hash) => hash.WriteTo(Reserve(Hash32.Size));

    public void WriteFixed(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteU32(bytes.Length);
        WriteFixed(bytes);
    }

    public void WriteShortBytes(ReadOnlySpan<byte> bytes)
    {
        WriteU16(bytes.Length);
        WriteFixed(bytes);
    }

    public void WriteString(string value) => WriteShortBytes(System.Text.Encoding.UTF8.GetBytes(value));

    public void WriteBool(bool value) => WriteU8(value ? 1 : 0);

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _length < count)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
