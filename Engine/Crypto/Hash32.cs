using System.Buffers.Binary;
using System.Security.Cryptography;

namespace IdOS.Akka.Engine.Crypto;

/// <summary>A SHA-256 digest held as four words, so that it is cheap to compare and to use as a dictionary key.</summary>
public readonly struct Hash32 : IEquatable<Hash32>, IComparable<Hash32>
{
    public const int Size = 32;

    private readonly ulong _w0;
    private readonly ulong _w1;
    private readonly ulong _w2;
    private readonly ulong _w3;

    public Hash32(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A hash is {Size} bytes, got {bytes.Length}.", nameof(bytes));
        }

        _w0 = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _w1 = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _w2 = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _w3 = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    public static Hash32 Zero => default;

    // One hash object per thread, reset after every use: SHA256.HashData creates and frees an OpenSSL context per call,
    // ~0.8 µs for 33 bytes here against ~0.5 µs through a kept context, and a validator hashes every transaction a few
    // times (HashBenchmarks).
    [ThreadStatic]
    private static IncrementalHash? t_sha256;

    public static Hash32 Compute(ReadOnlySpan<byte> data)
    {
        var sha256 = t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha256.AppendData(data);
        Span<byte> digest = stackalloc byte[Size];
        sha256.GetHashAndReset(digest);
        return new Hash32(digest);
    }

    /// <summary>One of the digest's four 64-bit words, for structures that need independent hash values.</summary>
    public ulong Word(int index) => index switch
    {
        0 => _w0,
        1 => _w1,
        2 => _w2,
        3 => _w3,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "a hash has words 0 to 3"),
    };

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _w0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _w1);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _w2);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _w3);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    public bool Equals(Hash32 other) => _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals(object? obj) => obj is Hash32 other && Equals(other);

    // A digest is already uniformly distributed; taking its bits (rather than HashCode's per-process random seed)
    // keeps hash-based collections identical from run to run, which simulation replay relies on.
    public override int GetHashCode() => unchecked((int)_w0);

    public int CompareTo(Hash32 other)
    {
        var c = _w0.CompareTo(other._w0);
        if (c != 0)
        {
            return c;
        }

        c = _w1.CompareTo(other._w1);
        if (c != 0)
        {
            return c;
        }

        c = _w2.CompareTo(other._w2);
        return c != 0 ? c : _w3.CompareTo(other._w3);
    }

    public static bool operator ==(Hash32 left, Hash32 right) => left.Equals(right);

    public static bool operator !=(Hash32 left, Hash32 right) => !left.Equals(right);

    public static bool operator <(Hash32 left, Hash32 right) => left.CompareTo(right) < 0;

    public static bool operator >(Hash32 left, Hash32 right) => left.CompareTo(right) > 0;

    public static bool operator <=(Hash32 left, Hash32 right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Hash32 left, Hash32 right) => left.CompareTo(right) >= 0;

    public override string ToString() => Convert.ToHexStringLower(ToArray());

    /// <summary>The first four bytes in hex, for logs.</summary>
    public string ToShortString() => ToString()[..8];
}
