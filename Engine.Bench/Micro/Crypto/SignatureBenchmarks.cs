using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;

namespace IdOS.Akka.Engine.Bench.Micro.Crypto;

/// <summary>
/// What signature checks cost one core: ed25519 (NSec), Keccak-256, secp256k1 public-key recovery and EIP-191 signing
/// on both paths (libsecp256k1 through P/Invoke, BouncyCastle managed), and a whole Kwil transaction's check for each signer kind —
/// decode, signed text, verification — as a mempool and the RPC's verifier pool do it.
/// </summary>
public class SignatureBenchmarks
{
    private const string Chain = "bench-chain";
    private Ed25519PrivateKey _ed25519 = null!;
    private byte[] _message = null!;
    private byte[] _ed25519Signature = null!;
    private byte[] _digest = null!;
    private byte[] _rs = null!;
    private int _recoveryId;
    private ISecp256k1Recovery _recovery = null!;
    private byte[] _evmTransaction = null!;
    private byte[] _ed25519Transaction = null!;
    private KwilTransaction _decoded = null!;
    private EvmKey _wallet = null!;
    private LibSecp256k1Signer? _signer;

    /// <summary>The recovery path; "libsecp256k1" falls back to nothing: without the library installed it fails at setup.</summary>
    [Params("libsecp256k1", "BouncyCastle")]
    public string Recovery { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _recovery = Recovery == "BouncyCastle"
            ? new BouncyCastleRecovery()
            : LibSecp256k1Recovery.TryCreate() ?? throw new InvalidOperationException("libsecp256k1 is not installed (Debian: libsecp256k1-1)");
        _ed25519 = Ed25519PrivateKey.GenerateExportable();
        _message = System.Text.Encoding.UTF8.GetBytes("Create a new attribute in your idOS profile, nonce 42, chain bench-chain");
        _ed25519Signature = _ed25519.Sign(_message);

        var wallet = _wallet = EvmKey.Generate();
        _signer = Recovery == "BouncyCastle" ? null : LibSecp256k1Signer.Instance ?? throw new InvalidOperationException("libsecp256k1 is not installed (Debian: libsecp256k1-1)");
        var signature = wallet.SignPersonal(_message);
        _digest = Eip191.Digest(_message);
        _rs = signature[..64];
        _recoveryId = signature[64] - 27;

        KwilValue[] attribute = [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("nickname"), KwilValue.OfText("alice")];
        _evmTransaction = KwilSigner.ForEvm(wallet).Execute(Chain, 1, "add_attribute", attribute);
        _decoded = KwilTransaction.FromBytes(_evmTransaction);
        _ed25519Transaction = KwilSigner.ForEd25519(_ed25519.PublicKey.Bytes, m => _ed25519.Sign(m)).Execute(Chain, 1, "add_attribute", attribute);
    }

    [GlobalCleanup]
    public void Cleanup() => _ed25519.Dispose();

    [Benchmark]
    public byte[] Ed25519Sign() => _ed25519.Sign(_message);

    [Benchmark]
    public bool Ed25519Verify() => Ed25519Verifier.Instance.Verify(_ed25519.PublicKey, _message, _ed25519Signature);

    [Benchmark]
    public byte[] Keccak256OfMessage() => Keccak256.Hash(_message);

    [Benchmark]
    public byte[]? Secp256k1Recover() => _recovery.Recover(_digest, _rs, _recoveryId);

    /// <summary>What a wallet does for each transaction (the cluster benchmark's idOS users sign this way): RFC 6979, low s, v.</summary>
    [Benchmark]
    public byte[] Eip191Sign() => _signer is null ? _wallet.SignPersonalManaged(_message) : _wallet.SignPersonalWith(_signer, _message);

    /// <summary>An EIP-191 (`secp256k1_ep`) add_attribute: decode, chain, signed text, Keccak, recovery, address.</summary>
    [Benchmark]
    public bool Eip191TransactionCheck() => TransactionGateCheck(_evmTransaction);

    [Benchmark]
    public bool Ed25519TransactionCheck() => TransactionGateCheck(_ed25519Transaction);

    [Benchmark]
    public KwilTransaction KwilDecode() => KwilTransaction.FromBytes(_evmTransaction);

    [Benchmark]
    public byte[] KwilEncode() => _decoded.ToBytes();

    /// <summary>The transaction hash clients and validators key everything by: sha256 of the binary transaction.</summary>
    [Benchmark]
    public byte[] TransactionHash() => System.Security.Cryptography.SHA256.HashData(_evmTransaction);

    private bool TransactionGateCheck(byte[] transaction) => Kwil.Auth.TransactionGate.Check(transaction, Chain, _recovery).IsAdmitted;
}
