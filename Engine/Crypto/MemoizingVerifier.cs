using System.Security.Cryptography;

namespace IdOS.Akka.Engine.Crypto;

/// <summary>
/// Remembers verdicts of an inner verifier. Verification is a pure function of (key, message, signature), so the
/// cache changes cost, never outcome; the simulator shares one per world so that n replicas checking the same QC pay
/// for it once. Not thread-safe: one instance per single-threaded owner.
/// </summary>
public sealed class MemoizingVerifier(ISignatureVerifier inner) : ISignatureVerifier
{
    private readonly Dictionary<Hash32, bool> _verdicts = [];

    public int Misses { get; private set; }

    public bool Verify(Ed25519PublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(key.Bytes);
        hash.AppendData(signature);
        hash.AppendData(message);
        Span<byte> digest = stackalloc byte[Hash32.Size];
        hash.GetHashAndReset(digest);
        var cacheKey = new Hash32(digest);
        if (_verdicts.TryGetValue(cacheKey, out var verdict))
        {
            return verdict;
        }

        Misses++;
        verdict = inner.Verify(key, message, signature);
        _verdicts[cacheKey] = verdict;
        return verdict;
    }
}
