using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Tests.Crypto;

/// <summary>Real ed25519 verification that counts its calls, by key, from any number of threads.</summary>
internal sealed class CountingVerifier : ISignatureVerifier
{
    private readonly System.Collections.Concurrent.ConcurrentBag<Ed25519PublicKey> _keys = [];
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public int CallsFor(Ed25519PublicKey key) => _keys.Count(k => k.Equals(key));

    public bool Verify(Ed25519PublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        Interlocked.Increment(ref _calls);
        _keys.Add(key);
        return Ed25519Verifier.Instance.Verify(key, message, signature);
    }
}
