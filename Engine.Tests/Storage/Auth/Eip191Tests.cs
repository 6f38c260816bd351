using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Tests.Vectors;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage.Auth;

/// <summary>
/// EIP-191 against vectors signed by ethers (tools/vectors/eip191.mjs), an implementation independent of ours, on
/// both recovery paths: libsecp256k1 through P/Invoke and managed BouncyCastle.
/// </summary>
[Trait("Category", "Unit")]
public sealed class Eip191Tests
{
    public static TheoryData<string> Paths => new() { "libsecp256k1", "BouncyCastle" };

    private static IReadOnlyList<EthersVector> Vectors => EthersVectors.All;

    [Fact]
    public void The_prefixed_keccak_digest_matches_ethers()
    {
        Assert.Equal(16, Vectors.Count);
        Assert.All(Vectors, v => Assert.Equal(Hex(v.Digest), Eip191.Digest(Hex(v.Message))));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_ethers_signature_recovers_its_signers_checksummed_address(string path)
    {
        var recovery = Recovery(path);
        if (recovery is null)
        {
            return;
        }

        foreach (var v in Vectors)
        {
            var signature = Hex(v.Signature);
            Assert.Equal(Hex(v.RecoveredPublicKey), recovery.Recover(Hex(v.Digest), signature.AsSpan(0, 64), signature[64] - 27));
            var check = Eip191.RecoverAddress(Hex(v.Message), signature, recovery);
            Assert.True(check.IsValid, check.Refusal);
            Assert.Equal(v.Address, Eip191.ChecksumAddress(check.Signer!));

            // The same signature with v as 0/1 (as some wallets send it) is the same signer.
            signature[64] -= 27;
            Assert.Equal(check.Signer, Eip191.RecoverAddress(Hex(v.Message), signature, recovery).Signer);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_malleated_signature_a_changed_message_and_malformed_signatures_do_not_yield_the_signer(string path)
    {
        var recovery = Recovery(path);
        if (recovery is null)
        {
            return;
        }

        var v = Vectors[0];
        var message = Hex(v.Message);
        var signature = Hex(v.Signature);

        Assert.Contains("malleated", Eip191.RecoverAddress(message, Hex(v.MalleatedSignature), recovery).Refusal, StringComparison.Ordinal);
        var other = Eip191.RecoverAddress([.. message, (byte)'!'], signature, recovery);
        Assert.True(other.Signer is null || Eip191.ChecksumAddress(other.Signer) != v.Address);
        Assert.Contains("65 bytes", Eip191.RecoverAddress(message, signature.AsSpan(0, 64), recovery).Refusal, StringComparison.Ordinal);
        Assert.Contains("recovery byte v is 29", Eip191.RecoverAddress(message, [.. signature[..64], 29], recovery).Refusal, StringComparison.Ordinal);
        Assert.Contains("out of range", Eip191.RecoverAddress(message, [.. new byte[32], .. signature[32..]], recovery).Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void The_checksummed_address_of_the_captured_client_key_is_the_one_the_idos_client_reported()
    {
        var vector = Vectors.First(x => x.PrivateKey == "0x" + string.Concat(Enumerable.Repeat("11", 32)));

        Assert.Equal("0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", Eip191.ChecksumAddress(Eip191.AddressOf(Hex(vector.RecoveredPublicKey))));
    }

    /// <summary>CI installs libsecp256k1 (`.ci/run` sets CI=true), so there its absence is a failure, not a pass.</summary>
    private static ISecp256k1Recovery? Recovery(string path)
    {
        if (path == "BouncyCastle")
        {
            return new BouncyCastleRecovery();
        }

        var native = LibSecp256k1Recovery.TryCreate();
        Assert.True(native is not null || Environment.GetEnvironmentVariable("CI") != "true",
            "libsecp256k1 (Debian package libsecp256k1-1) is not installed; .ci/run installs it");
        return native;
    }

    /// <summary>Both use RFC 6979 nonces and low s, so an independent signer must produce ethers' exact bytes.</summary>
    [Fact]
    public void Our_personal_sign_gives_the_same_signature_bytes_as_ethers()
    {
        foreach (var v in Vectors)
        {
            var key = EvmKey.FromSecret(Hex(v.PrivateKey));
            Assert.Equal(v.Address, key.ChecksumAddress);
            Assert.Equal(Hex(v.Signature), key.SignPersonal(Hex(v.Message)));
            Assert.Equal(Hex(v.Signature), key.SignPersonalManaged(Hex(v.Message)));
        }
    }

    [Fact]
    public void Libsecp256k1_signs_the_same_bytes_as_ethers()
    {
        var native = LibSecp256k1Signer.Instance;
        Assert.True(native is not null || Environment.GetEnvironmentVariable("CI") != "true",
            "libsecp256k1 (Debian package libsecp256k1-1) is not installed; .ci/run installs it");
        if (native is null)
        {
            return;
        }

        foreach (var v in Vectors)
        {
            Assert.Equal(Hex(v.Signature), EvmKey.FromSecret(Hex(v.PrivateKey)).SignPersonalWith(native, Hex(v.Message)));
        }
    }

    private static byte[] Hex(string hex) => EthersVectors.Hex(hex);
}
