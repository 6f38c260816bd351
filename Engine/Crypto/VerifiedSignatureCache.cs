using System.Buffers;
using System.Buffers.Binary;
using IdOS.Akka.Engine.Kwil.Crypto;

namespace IdOS.Akka.Engine.Crypto;

/// <summary>
/// Remembers the inner verifier's verdict on each (key, message, signature) triple, so that a signature checked once
/// (by a peer's inbound verifier, or by one simulated replica) costs a SHA-256 and a lookup the next time. Verification
/// is a pure function of the triple, so the cache changes cost, never outcome. Rejections are remembered too, apart
/// from acceptances: a peer replaying a forgery costs one check, and a flood of fresh forgeries only churns the set of
/// rejections, never pushes out what was accepted. Each set is bounded by two generations of <c>capacity</c> entries
/// (<see cref="RecentSet{T}"/>). Safe to share between threads.
/// </summary>
public sealed class VerifiedSignatureCache : ISignatureVerifier
{
    private const int StackMessageLimit = 512;

    private readonly ISignatureVerifier _inner;
    private readonly RecentSet<Hash32> _accepted;
    private readonly RecentSet<Hash32> _rejected;
    private long _hits;
    private long _misses;

    public VerifiedSignatureCache(ISignatureVerifier inner, int capacity = 16_384)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _accepted = new RecentSet<Hash32>(capacity);
        _rejected = new RecentSet<Hash32>(capacity);
    }

    /// <summary>Verdicts served from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Verdicts the inner verifier had to compute.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    public bool Verify(Ed25519PublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        Verify(key, message, signature, out _);

    /// <summary>As <see cref="Verify(Ed25519PublicKey, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>; <paramref name="computed"/> says whether the inner verifier had to run.</summary>
    public bool Verify(Ed25519PublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature, out bool computed)
    {
        ArgumentNullException.ThrowIfNull(key);
        var entry = EntryOf(key, message, signature);
        var accepted = _accepted.Contains(entry);
        if (accepted || _rejected.Contains(entry))
        {
            Interlocked.Increment(ref _hits);
            computed = false;
            return accepted;
        }

        computed = true;
        Interlocked.Increment(ref _misses);
        var valid = _inner.Verify(key, message, signature);
        (valid ? _accepted : _rejected).Add(entry);
        return valid;
    }

    // The signature's length goes in too: the inner verifier may accept other lengths, and without it two triples
    // could split the same bytes differently between signature and message.
    private static Hash32 EntryOf(Ed25519PublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        var length = key.Bytes.Length + sizeof(int) + signature.Length + message.Length;
        var rented = length > StackMessageLimit ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            var buffer = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
            key.Bytes.CopyTo(buffer);
            var rest = buffer[key.Bytes.Length..];
            BinaryPrimitives.WriteInt32BigEndian(rest, signature.Length);
            signature.CopyTo(rest[sizeof(int)..]);
            message.CopyTo(rest[(sizeof(int) + signature.Length)..]);
            return Hash32.Compute(buffer);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
