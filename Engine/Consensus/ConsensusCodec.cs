using System.Diagnostics.CodeAnalysis;
using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The canonical encoding of every consensus message: used for block ids, for signatures and on the wire, so a
/// decoded message re-encodes to the same bytes. Decoding never throws; bad bytes yield a reason.
/// </summary>
public static class ConsensusCodec
{
    public const byte WireVersion = 1;
    private const byte SafetyStateWithEpoch = 2;

    private enum Tag : byte
    {
        Proposal = 1,
        Vote = 2,
        Timeout = 3,
        BlockRequest = 4,
        BlockResponse = 5,

        /// <summary>A timeout with the TC of the round before; a tag of its own keeps timeouts persisted without one readable.</summary>
        TimeoutWithTc = 6,
        RoundSync = 7,
        BlockRangeRequest = 8,
        BlockRangeResponse = 9,
        HeaderRangeRequest = 10,
        HeaderRangeResponse = 11,

        /// <summary>A proposal with the proof of the last epoch's end; a tag of its own keeps every other proposal's encoding.</summary>
        ProposalOpeningEpoch = 12,
        EpochEnd = 13,
        EpochEndRequest = 14,
    }

    public static byte[] Encode(ConsensusMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var writer = new CanonicalWriter(EncodedSizeOf(message));
        writer.WriteU8(WireVersion);
        switch (message)
        {
            case Proposal proposal:
                writer.WriteU8((int)(proposal.OpeningProof is null ? Tag.Proposal : Tag.ProposalOpeningEpoch));
                WriteBlock(writer, proposal.Block);
                writer.WriteFixed(proposal.Signature);
                writer.WriteBool(proposal.LastRoundTc is not null);
                if (proposal.LastRoundTc is not null)
                {
                    WriteTc(writer, proposal.LastRoundTc);
                }

                if (proposal.OpeningProof is { } proof)
                {
                    WriteEpochProof(writer, proof);
                }

                break;
            case Vote vote:
                writer.WriteU8((int)Tag.Vote);
                writer.WriteHash(vote.BlockId);
                writer.WriteU63(vote.Round);
                writer.WriteU16(vote.Voter);
                writer.WriteFixed(vote.Signature);
                break;
            case TimeoutVote timeout:
                writer.WriteU8((int)(timeout.LastRoundTc is null ? Tag.Timeout : Tag.TimeoutWithTc));
                writer.WriteU63(timeout.Round);
                HeaderCodec.WriteQc(writer, timeout.HighQc);
                writer.WriteU16(timeout.Voter);
                writer.WriteFixed(timeout.Signature);
                if (timeout.LastRoundTc is not null)
                {
                    WriteTc(writer, timeout.LastRoundTc);
                }

                break;
            case EpochEnd end:
                writer.WriteU8((int)Tag.EpochEnd);
                WriteEpochProof(writer, end.Proof);
                break;
            case EpochEndRequest request:
                writer.WriteU8((int)Tag.EpochEndRequest);
                writer.WriteU63(request.Epoch);
                break;
            case RoundSync sync:
                writer.WriteU8((int)Tag.RoundSync);
                HeaderCodec.WriteQc(writer, sync.HighQc);
                writer.WriteBool(sync.LastRoundTc is not null);
                if (sync.LastRoundTc is not null)
                {
                    WriteTc(writer, sync.LastRoundTc);
                }

                break;
            case BlockRequest request:
                writer.WriteU8((int)Tag.BlockRequest);
                writer.WriteHash(request.BlockId);
                writer.WriteU63(request.KnownCommittedHeight);
                writer.WriteU16(request.MaxBlocks);
                break;
            case BlockResponse response:
                writer.WriteU8((int)Tag.BlockResponse);
                writer.WriteHash(response.RequestedId);
                WriteBlocks(writer, response.Blocks);
                break;
            case BlockRangeRequest range:
                writer.WriteU8((int)Tag.BlockRangeRequest);
                writer.WriteU63(range.FromHeight);
                writer.WriteU16(range.MaxBlocks);
                break;
            case BlockRangeResponse range:
                writer.WriteU8((int)Tag.BlockRangeResponse);
                writer.WriteU63(range.FromHeight);
                writer.WriteU63(range.PrunedHeight);
                WriteBlocks(writer, range.Blocks);
                break;
            case HeaderRangeRequest range:
                writer.WriteU8((int)Tag.HeaderRangeRequest);
                writer.WriteU63(range.FromHeight);
                writer.WriteU16(range.MaxHeaders);
                writer.WriteU63(range.Epoch);
                break;
            case HeaderRangeResponse range:
                writer.WriteU8((int)Tag.HeaderRangeResponse);
                writer.WriteU63(range.FromHeight);
                writer.WriteU16(range.Headers.Count);
                foreach (var header in range.Headers)
                {
                    WritePrunedBlock(writer, header);
                }

                writer.WriteBool(range.Transition is not null);
                if (range.Transition is { } transition)
                {
                    WriteEpochProof(writer, transition.Proof);
                    writer.WriteU16(transition.NextSet.Count);
                    for (var i = 0; i < transition.NextSet.Count; i++)
                    {
                        writer.WriteFixed(transition.NextSet[i].Bytes);
                    }
                }

                break;
            default:
                throw new ArgumentException($"No encoding for {message.GetType().Name}.", nameof(message));
        }

        return writer.ToArray();
    }

    public static bool TryDecode(
        ReadOnlySpan<byte> bytes,
        ConsensusLimits limits,
        [NotNullWhen(true)] out ConsensusMessage? message,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (bytes.Length > limits.MaxMessageBytes)
        {
            message = null;
            error = $"message of {bytes.Length} bytes exceeds the limit {limits.MaxMessageBytes}";
            return false;
        }

        return CanonicalReader.TryReadAll(bytes, "message", (ref CanonicalReader reader) => ReadMessage(ref reader, limits), out message, out error);
    }

    /// <summary>The safety state as persisted; the vote and timeout inside are kept in their wire form.</summary>
    public static byte[] EncodeSafetyState(SafetyState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var writer = new CanonicalWriter(1024);
        // Version 2 appends the epoch; genesis's epoch keeps version 1, which every journal written before epochs holds.
        writer.WriteU8(state.Epoch == 0 ? WireVersion : SafetyStateWithEpoch);
        writer.WriteU63(state.LastVotedRound);
        HeaderCodec.WriteQc(writer, state.HighQc);
        writer.WriteBool(state.LastVote is not null);
        if (state.LastVote is not null)
        {
            writer.WriteBytes(Encode(state.LastVote));
        }

        writer.WriteBool(state.LastTimeout is not null);
        if (state.LastTimeout is not null)
        {
            writer.WriteBytes(Encode(state.LastTimeout));
        }

        if (state.Epoch != 0)
        {
            writer.WriteU63(state.Epoch);
        }

        return writer.ToArray();
    }

    public static bool TryDecodeSafetyState(
        ReadOnlySpan<byte> bytes,
        ConsensusLimits limits,
        [NotNullWhen(true)] out SafetyState? state,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return CanonicalReader.TryReadAll(bytes, "safety state", (ref CanonicalReader reader) => ReadSafetyState(ref reader, limits), out state, out error);
    }

    public static byte[] EncodeHeader(BlockHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var writer = new CanonicalWriter(HeaderCodec.HeaderSize(header));
        HeaderCodec.WriteHeader(writer, header);
        return writer.ToArray();
    }

    /// <summary>A block (header and body) on its own, as a block store keeps it.</summary>
    public static byte[] EncodeBlock(Block block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var writer = new CanonicalWriter(block.EncodedSize + 16);
        WriteBlock(writer, block);
        return writer.ToArray();
    }

    public static bool TryDecodeBlock(
        ReadOnlySpan<byte> bytes,
        ConsensusLimits limits,
        [NotNullWhen(true)] out Block? block,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return CanonicalReader.TryReadAll(bytes, "block", (ref CanonicalReader reader) => ReadBlock(ref reader, limits), out block, out error);
    }

    /// <summary>
    /// What is left of a block past the retention window: its header and its transactions' hashes, which are enough
    /// to check the block id, the Merkle root and the chain of certificates, but not to execute it again.
    /// </summary>
    public static byte[] EncodePrunedBlock(Block block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var writer = new CanonicalWriter(512 + (block.TransactionHashes.Count * Hash32.Size));
        HeaderCodec.WriteHeader(writer, block.Header);
        WriteHashes(writer, block.TransactionHashes);
        return writer.ToArray();
    }

    public static byte[] EncodePrunedBlock(PrunedBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var writer = new CanonicalWriter(PrunedBlockSize(block));
        WritePrunedBlock(writer, block);
        return writer.ToArray();
    }

    private static void WriteHashes(CanonicalWriter writer, IReadOnlyList<Hash32> hashes)
    {
        writer.WriteU32(hashes.Count);
        foreach (var hash in hashes)
        {
            writer.WriteHash(hash);
        }
    }

    private static void WritePrunedBlock(CanonicalWriter writer, PrunedBlock block)
    {
        HeaderCodec.WriteHeader(writer, block.Header);
        WriteHashes(writer, block.TransactionHashes);
    }

    private static int PrunedBlockSize(PrunedBlock block) => HeaderCodec.HeaderSize(block.Header) + 4 + (block.TransactionHashes.Count * Hash32.Size);

    private static PrunedBlock ReadPrunedBlock(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var header = HeaderCodec.ReadHeader(ref reader);
        var count = reader.ReadU32(limits.MaxTransactionsPerBlock, "transaction count");
        var hashes = new Hash32[count];
        for (var i = 0; i < count; i++)
        {
            hashes[i] = reader.ReadHash();
        }

        return new PrunedBlock(header, hashes);
    }

    private static HeaderRangeResponse ReadHeaderRangeResponse(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var from = reader.ReadU63("from height");
        var count = reader.ReadU16();
        if (count > HeaderRangeRequest.Limit)
        {
            throw new MalformedMessageException($"header response holds {count} headers, above the limit {HeaderRangeRequest.Limit}");
        }

        var headers = new PrunedBlock[count];
        for (var i = 0; i < count; i++)
        {
            headers[i] = ReadPrunedBlock(ref reader, limits);
        }

        return new HeaderRangeResponse(from, headers) { Transition = reader.ReadBool() ? ReadEpochTransition(ref reader, limits) : null };
    }

    private static EpochTransition ReadEpochTransition(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var proof = ReadEpochProof(ref reader, limits);
        var count = reader.ReadU16();
        if (count is 0 or > ValidatorSet.MaxValidators)
        {
            throw new MalformedMessageException($"an epoch transition names {count} validators; a set holds 1 to {ValidatorSet.MaxValidators}");
        }

        var keys = new Ed25519PublicKey[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = Ed25519PublicKey.TryCreate(reader.ReadFixed(Ed25519PublicKey.Size))
                ?? throw new MalformedMessageException($"validator {i} of an epoch transition is not an ed25519 public key");
        }

        return keys.Distinct().Count() == count
            ? new EpochTransition(proof, new ValidatorSet(keys))
            : throw new MalformedMessageException("an epoch transition names a validator twice");
    }

    public static bool TryDecodePrunedBlock(
        ReadOnlySpan<byte> bytes,
        ConsensusLimits limits,
        [NotNullWhen(true)] out PrunedBlock? block,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return CanonicalReader.TryReadAll(bytes, "pruned block", (ref CanonicalReader reader) => ReadPrunedBlock(ref reader, limits), out block, out error);
    }

    public static bool TryDecodeQc(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out QuorumCertificate? qc, [NotNullWhen(false)] out string? error) =>
        CanonicalReader.TryReadAll(bytes, "QC", HeaderCodec.ReadQc, out qc, out error);

    public static byte[] EncodeQc(QuorumCertificate qc)
    {
        ArgumentNullException.ThrowIfNull(qc);
        var writer = new CanonicalWriter(HeaderCodec.QcSize(qc));
        HeaderCodec.WriteQc(writer, qc);
        return writer.ToArray();
    }

    /// <summary>The bytes an epoch transition adds to a header response.</summary>
    public static int SizeOf(EpochTransition transition) =>
        EpochProofSize(transition.Proof) + 2 + (transition.NextSet.Count * Ed25519PublicKey.Size);

    /// <summary>
    /// The length <see cref="Encode"/> writes (version and tag included), so that a message is allocated once: sized by
    /// doubling, a proposal of 26 KB allocated 88 KB. A wrong size costs a copy, never a wrong encoding.
    /// </summary>
    private static int EncodedSizeOf(ConsensusMessage message) => 2 + message switch
    {
        EpochEndRequest => 8,
        EpochEnd end => EpochProofSize(end.Proof),
        Proposal proposal => proposal.Block.EncodedSize + proposal.Signature.Length + 1 + (proposal.LastRoundTc is { } tc ? TcSize(tc) : 0)
            + (proposal.OpeningProof is { } proof ? EpochProofSize(proof) : 0),
        Vote vote => Hash32.Size + 8 + 2 + vote.Signature.Length,
        TimeoutVote timeout => 8 + HeaderCodec.QcSize(timeout.HighQc) + 2 + timeout.Signature.Length + (timeout.LastRoundTc is { } tc ? TcSize(tc) : 0),
        RoundSync sync => HeaderCodec.QcSize(sync.HighQc) + 1 + (sync.LastRoundTc is { } tc ? TcSize(tc) : 0),
        BlockRequest => Hash32.Size + 8 + 2,
        BlockResponse response => Hash32.Size + 2 + BlockBytes(response.Blocks),
        BlockRangeRequest => 8 + 2,
        BlockRangeResponse range => 8 + 8 + 2 + BlockBytes(range.Blocks),
        HeaderRangeRequest => 8 + 2 + 8,
        HeaderRangeResponse range => 8 + 2 + range.Headers.Sum(h => PrunedBlockSize(h)) + 1
            + (range.Transition is { } transition ? SizeOf(transition) : 0),
        _ => 0,
    };

    private static int TcSize(TimeoutCertificate tc) => 8 + 2 + tc.Signers.Length + 2 + HeaderCodec.SignatureBytes(tc.Signatures, 8);

    private static int BlockBytes(IReadOnlyList<Block> blocks)
    {
        var total = 0;
        for (var i = 0; i < blocks.Count; i++)
        {
            total += blocks[i].EncodedSize;
        }

        return total;
    }

    private static ConsensusMessage ReadMessage(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var version = reader.ReadU8();
        if (version != WireVersion)
        {
            throw new MalformedMessageException($"unknown wire version {version}");
        }

        return (Tag)reader.ReadU8() switch
        {
            Tag.Proposal => ReadProposal(ref reader, limits),
            Tag.ProposalOpeningEpoch => ReadProposal(ref reader, limits) with { OpeningProof = ReadEpochProof(ref reader, limits) },
            Tag.EpochEnd => new EpochEnd(ReadEpochProof(ref reader, limits)),
            Tag.EpochEndRequest => new EpochEndRequest(reader.ReadU63("epoch")),
            Tag.Vote => new Vote(reader.ReadHash(), reader.ReadU63("round"), reader.ReadU16(), HeaderCodec.ReadSignature(ref reader)),
            Tag.Timeout => ReadTimeout(ref reader),
            Tag.TimeoutWithTc => ReadTimeout(ref reader) with { LastRoundTc = ReadTc(ref reader) },
            Tag.RoundSync => new RoundSync(HeaderCodec.ReadQc(ref reader), reader.ReadBool() ? ReadTc(ref reader) : null),
            Tag.BlockRequest => new BlockRequest(reader.ReadHash(), reader.ReadU63("known committed height"), reader.ReadU16()),
            Tag.BlockResponse => ReadBlockResponse(ref reader, limits),
            Tag.BlockRangeRequest => new BlockRangeRequest(reader.ReadU63("from height"), reader.ReadU16()),
            Tag.BlockRangeResponse => ReadBlockRangeResponse(ref reader, limits),
            Tag.HeaderRangeRequest => new HeaderRangeRequest(reader.ReadU63("from height"), reader.ReadU16(), reader.ReadU63("epoch")),
            Tag.HeaderRangeResponse => ReadHeaderRangeResponse(ref reader, limits),
            var other => throw new MalformedMessageException($"unknown message tag {(byte)other}"),
        };
    }

    private static SafetyState ReadSafetyState(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var version = reader.ReadU8();
        if (version is not (WireVersion or SafetyStateWithEpoch))
        {
            throw new MalformedMessageException($"unknown safety state version {version}");
        }

        var lastVotedRound = reader.ReadU63("last voted round");
        var highQc = HeaderCodec.ReadQc(ref reader);
        var lastVote = reader.ReadBool() ? ReadNested<Vote>(reader.ReadBytes(limits.MaxMessageBytes, "last vote"), limits) : null;
        var lastTimeout = reader.ReadBool() ? ReadNested<TimeoutVote>(reader.ReadBytes(limits.MaxMessageBytes, "last timeout"), limits) : null;
        var state = new SafetyState(lastVotedRound, highQc, lastVote, lastTimeout);
        if (version == WireVersion)
        {
            return state;
        }

        var epoch = reader.ReadU63("epoch");
        return epoch > 0 ? state with { Epoch = epoch } : throw new MalformedMessageException("safety state of version 2 for epoch 0; such a state is written as version 1");
    }

    private static T ReadNested<T>(byte[] bytes, ConsensusLimits limits)
        where T : ConsensusMessage
    {
        if (!TryDecode(bytes, limits, out var decoded, out var error))
        {
            throw new MalformedMessageException(error);
        }

        return decoded as T ?? throw new MalformedMessageException($"expected a {typeof(T).Name}, found a {decoded.GetType().Name}");
    }

    // Indexed loops: a foreach over an IReadOnlyList allocates an enumerator, and encoding is on every message's path.
    private static void WriteBlock(CanonicalWriter writer, Block block)
    {
        HeaderCodec.WriteHeader(writer, block.Header);
        writer.WriteU32(block.Transactions.Count);
        for (var i = 0; i < block.Transactions.Count; i++)
        {
            writer.WriteBytes(block.Transactions[i]);
        }
    }

    private static void WriteTc(CanonicalWriter writer, TimeoutCertificate tc)
    {
        writer.WriteU63(tc.Round);
        writer.WriteShortBytes(tc.Signers);
        writer.WriteU16(tc.Signatures.Count);
        for (var i = 0; i < tc.Signatures.Count; i++)
        {
            writer.WriteU63(tc.HighQcRounds[i]);
            writer.WriteFixed(tc.Signatures[i]);
        }
    }

    private static Proposal ReadProposal(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var block = ReadBlock(ref reader, limits);
        var signature = HeaderCodec.ReadSignature(ref reader);
        var tc = reader.ReadBool() ? ReadTc(ref reader) : null;
        return new Proposal(block, signature, tc);
    }

    private static void WriteEpochProof(CanonicalWriter writer, EpochProof proof)
    {
        WriteBlocks(writer, proof.Suffix);
        HeaderCodec.WriteQc(writer, proof.Certificate);
    }

    private static int EpochProofSize(EpochProof proof) => 2 + BlockBytes(proof.Suffix) + HeaderCodec.QcSize(proof.Certificate);

    private static EpochProof ReadEpochProof(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var suffix = ReadBlocks(ref reader, limits);
        return suffix.Length is 0 or > EpochProof.MaxSuffix
            ? throw new MalformedMessageException($"an epoch proof holds 1 to {EpochProof.MaxSuffix} blocks, not {suffix.Length}")
            : new EpochProof(suffix, HeaderCodec.ReadQc(ref reader));
    }

    private static TimeoutVote ReadTimeout(ref CanonicalReader reader)
    {
        var round = reader.ReadU63("round");
        var highQc = HeaderCodec.ReadQc(ref reader);
        return new TimeoutVote(round, highQc, reader.ReadU16(), HeaderCodec.ReadSignature(ref reader));
    }

    private static BlockResponse ReadBlockResponse(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var requested = reader.ReadHash();
        return new BlockResponse(requested, ReadBlocks(ref reader, limits));
    }

    private static BlockRangeResponse ReadBlockRangeResponse(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var from = reader.ReadU63("from height");
        var pruned = reader.ReadU63("pruned height");
        var blocks = ReadBlocks(ref reader, limits);
        return new BlockRangeResponse(from, pruned, blocks);
    }

    private static void WriteBlocks(CanonicalWriter writer, IReadOnlyList<Block> blocks)
    {
        writer.WriteU16(blocks.Count);
        for (var i = 0; i < blocks.Count; i++)
        {
            WriteBlock(writer, blocks[i]);
        }
    }

    private static Block[] ReadBlocks(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var count = reader.ReadU16();
        if (count > limits.MaxBlocksPerResponse)
        {
            throw new MalformedMessageException($"block response holds {count} blocks, above the limit {limits.MaxBlocksPerResponse}");
        }

        var blocks = new Block[count];
        for (var i = 0; i < count; i++)
        {
            blocks[i] = ReadBlock(ref reader, limits);
        }

        return blocks;
    }

    private static Block ReadBlock(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var start = reader.Position;
        var header = HeaderCodec.ReadHeader(ref reader);
        var count = reader.ReadU32(limits.MaxTransactionsPerBlock, "transaction count");
        var transactions = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            transactions[i] = reader.ReadBytes(limits.MaxTransactionBytes, "transaction");
        }

        if (reader.Position - start > limits.MaxBlockBytes)
        {
            throw new MalformedMessageException($"block of {reader.Position - start} bytes exceeds the limit {limits.MaxBlockBytes}");
        }

        return Block.FromParts(header, transactions);
    }

    private static TimeoutCertificate ReadTc(ref CanonicalReader reader)
    {
        var round = reader.ReadU63("TC round");
        var signers = reader.ReadShortBytes(ValidatorSet.MaxValidators / 8, "TC signer bitmap");
        var count = HeaderCodec.ReadSignatureCount(ref reader, "TC");
        var highQcRounds = new long[count];
        var signatures = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            highQcRounds[i] = reader.ReadU63("TC high-QC round");
            signatures[i] = HeaderCodec.ReadSignature(ref reader);
        }

        return new TimeoutCertificate(round, signers, highQcRounds, signatures);
    }

}
