using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;

namespace IdOS.Akka.Engine.Bench.Micro.Consensus;

/// <summary>
/// The per-message costs a validator pays: the wire codec for proposals, votes and QCs, block ids, Merkle roots,
/// signing, and checking a QC, whose cost grows with the quorum (3 of 4, 5 of 7, 7 of 10, 11 of 16 signatures).
/// </summary>
public class ConsensusBenchmarks
{
    private ChainParameters _chain = null!;
    private SignatureChecks _checks = null!;
    private VerifiedSignatureCache _checkedAhead = null!;
    private Ed25519PrivateKey _key = null!;
    private Proposal _proposal = null!;
    private byte[] _proposalBytes = null!;
    private QuorumCertificate _qc = null!;
    private Hash32[] _transactionHashes = null!;
    private byte[] _voteMessage = null!;
    private Vote _vote = null!;
    private byte[] _voteBytes = null!;
    private byte[] _qcBytes = null!;

    [Params(4, 7, 10, 16)]
    public int Validators { get; set; }

    /// <summary>100 transactions of 256 bytes: a small idOS block (credential writes are a few hundred bytes each).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var keys = Enumerable.Range(0, Validators).Select(SimWorld.ValidatorKey).ToArray();
        _chain = new ChainParameters("bench", new ValidatorSet([.. keys.Select(k => k.PublicKey)]), 1_700_000_000_000);
        _checks = new SignatureChecks(_chain, Ed25519Verifier.Instance);
        _key = keys[1];
        var genesis = _chain.GenesisBlock;
        var transactions = Enumerable.Range(0, 100).Select(i => Enumerable.Repeat((byte)i, 256).ToArray()).ToList();
        var parent = Block.Create(1, 1, _chain.GenesisQc, 1, genesis.Header.Timestamp + 1, [], 0, _chain.GenesisAppHash, setHash: _chain.Validators.Hash);
        var signers = Enumerable.Range(0, _chain.Validators.Quorum).ToList();
        _qc = new QuorumCertificate(parent.Id, 1, SignerBitmap.Create(Validators, signers),
            [.. signers.Select(i => keys[i].Sign(_chain.Domain.Vote(parent.Id, 1)))]);
        var block = Block.Create(2, 2, _qc, 2 % Validators, parent.Header.Timestamp + 1, transactions, 0, _chain.GenesisAppHash, setHash: _chain.Validators.Hash);
        _proposal = new Proposal(block, keys[2 % Validators].Sign(_chain.Domain.Proposal(block.Id)), null);
        _proposalBytes = ConsensusCodec.Encode(_proposal);
        _transactionHashes = [.. block.TransactionHashes];
        _voteMessage = _chain.Domain.Vote(block.Id, 2);
        _vote = new Vote(block.Id, 2, 1, _key.Sign(_voteMessage));
        _voteBytes = ConsensusCodec.Encode(_vote);
        _qcBytes = ConsensusCodec.EncodeQc(_qc);
        _checkedAhead = new VerifiedSignatureCache(Ed25519Verifier.Instance);
        new SignatureChecks(_chain, _checkedAhead).CheckQc(_qc);
    }

    [Benchmark]
    public byte[] EncodeProposal() => ConsensusCodec.Encode(_proposal);

    /// <summary>Includes hashing the header (block id) and all 100 transactions, as every receiver must.</summary>
    [Benchmark]
    public ConsensusMessage? DecodeProposal() =>
        ConsensusCodec.TryDecode(_proposalBytes, ConsensusLimits.Default, out var message, out _) ? message : null;

    [Benchmark]
    public byte[] EncodeVote() => ConsensusCodec.Encode(_vote);

    [Benchmark]
    public ConsensusMessage? DecodeVote() =>
        ConsensusCodec.TryDecode(_voteBytes, ConsensusLimits.Default, out var message, out _) ? message : null;

    [Benchmark]
    public byte[] EncodeQc() => ConsensusCodec.EncodeQc(_qc);

    [Benchmark]
    public QuorumCertificate? DecodeQc() => ConsensusCodec.TryDecodeQc(_qcBytes, out var qc, out _) ? qc : null;

    [Benchmark]
    public Hash32 MerkleRootOf100() => MerkleTree.Root(_transactionHashes);

    [Benchmark]
    public byte[] SignVote() => _key.Sign(_voteMessage);

    /// <summary>A QC this validator has not seen before: one ed25519 verification per signer.</summary>
    [Benchmark]
    public bool VerifyQc() => new SignatureChecks(_chain, Ed25519Verifier.Instance).CheckQc(_qc).IsAccepted;

    /// <summary>The same QC again (in a timeout, a sync response): encoding and hashing it finds it already verified.</summary>
    [Benchmark]
    public bool VerifyQcAgain() => _checks.CheckQc(_qc).IsAccepted;

    /// <summary>
    /// A QC the consensus actor has not seen, whose signatures the sender's inbound verifier already checked: what the
    /// replica pays is a SHA-256 and a lookup per signature in the shared cache.
    /// </summary>
    [Benchmark]
    public bool VerifyQcCheckedAhead() => new SignatureChecks(_chain, _checkedAhead).CheckQc(_qc).IsAccepted;
}
