using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// A Bloom filter over SHA-256 digests: "no" is certain, "maybe" must be confirmed by the store. The digest's own
/// bits are the hash functions (double hashing over its first two words), so nothing is hashed twice.
/// </summary>
public sealed class HashFilter
{
    /// <summary>2^27 bits (16 MiB): under 1 % false positives up to about 14 million hashes with 7 probes.</summary>
    public const int DefaultBits = 1 << 27;
    private const int Probes = 7;

    private readonly ulong[] _words;
    private readonly ulong _mask;

    public HashFilter(int bits)
    {
        if (bits < 64 || (bits & (bits - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "a power of two of at least 64");
        }

        _words = new ulong[bits / 64];
        _mask = (ulong)bits - 1;
    }

    public void Add(Hash32 hash)
    {
        var (first, step) = Seeds(hash);
        for (var i = 0; i < Probes; i++)
        {
            var bit = (first + ((ulong)i * step)) & _mask;
            _words[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    public bool MayContain(Hash32 hash)
    {
        var (first, step) = Seeds(hash);
        for (var i = 0; i < Probes; i++)
        {
            var bit = (first + ((ulong)i * step)) & _mask;
            if ((_words[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static (ulong First, ulong Step) Seeds(Hash32 hash) => (hash.Word(0), hash.Word(1) | 1);
}
