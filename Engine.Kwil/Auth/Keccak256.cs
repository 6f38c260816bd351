using Org.BouncyCastle.Crypto.Digests;

namespace IdOS.Akka.Engine.Kwil.Auth;

/// <summary>Ethereum's Keccak-256 (the pre-standard padding, not SHA3-256).</summary>
public static class Keccak256
{
    public const int Size = 32;

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var digest = new KeccakDigest(256);
        digest.BlockUpdate(data);
        var output = new byte[Size];
        digest.DoFinal(output);
        return output;
    }
}
