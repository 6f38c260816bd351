using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The canonical encoding of block headers and quorum certificates, which <see cref="ConsensusCodec"/> writes into
/// every message that carries them and block ids are hashed over.
/// </summary>
internal static class HeaderCodec
{
    // Version 2 adds the failed proposers; a header without any is written as version 1, so that every header has
    // exactly one encoding and blocks stored before the field existed keep their ids.
    private const byte HeaderVersion = 1;
    private const byte HeaderVersionWithFailedProposers = 2;

    // The same two with the epoch and its set's hash after the executed app hash. A header without a set hash (genesis,
    // and blocks stored before headers named their set) keeps the version it was written in, and so its id.
    private const byte HeaderVersionWithSet = 3;
    private const byte HeaderVersionWithSetAndFailedProposers = 4;

    // The same two with the next epoch's set hash after the set's: only the blocks past an epoch's end carry it.
    private const byte HeaderVersionWithNextSet = 5;
    private const byte HeaderVersionWithNextSetAndFailedProposers = 6;
    private const int SignatureSize = Ed25519PrivateKey.SignatureSize;

    internal static int HeaderSize(BlockHeader header) =>
        1 + 8 + 8 + QcSize(header.Justify) + 2 + 8 + Hash32.Size + 4 + 8 + Hash32.Size
        + (header.SetHash == Hash32.Zero ? 0 : 8 + Hash32.Size)
        + (header.NextSetHash == Hash32.Zero ? 0 : Hash32.Size)
        + (header.FailedProposers.Length == 0 ? 0 : 2 + header.FailedProposers.Length);

    internal static int QcSize(QuorumCertificate qc) => Hash32.Size + 8 + 2 + qc.Signers.Length + 2 + SignatureBytes(qc.Signatures, 0);

    internal static int SignatureBytes(IReadOnlyList<byte[]> signatures, int extraEach)
    {
        var total = 0;
        for (var i = 0; i < signatures.Count; i++)
        {
            total += signatures[i].Length + extraEach;
        }

        return total;
    }

    internal static void WriteHeader(CanonicalWriter writer, BlockHeader header)
    {
        var withFailed = header.FailedProposers.Length > 0;
        var withSet = header.SetHash != Hash32.Zero;
        var withNext = header.NextSetHash != Hash32.Zero;
        if (withNext && !withSet)
        {
            throw new ArgumentException("A block that names the next epoch's set names its own.", nameof(header));
        }

        writer.WriteU8((withNext, withSet, withFailed) switch
        {
            (true, _, true) => HeaderVersionWithNextSetAndFailedProposers,
            (true, _, false) => HeaderVersionWithNextSet,
            (false, true, true) => HeaderVersionWithSetAndFailedProposers,
            (false, true, false) => HeaderVersionWithSet,
            (false, false, true) => HeaderVersionWithFailedProposers,
            _ => HeaderVersion,
        });
        writer.WriteU63(header.Round);
        writer.WriteU63(header.Height);
        WriteQc(writer, header.Justify);
        writer.WriteU16(header.Proposer);
        writer.WriteU63(header.Timestamp);
        writer.WriteHash(header.TxRoot);
        writer.WriteU32(header.TxCount);
        writer.WriteU63(header.ExecutedHeight);
        writer.WriteHash(header.ExecutedAppHash);
        if (withSet)
        {
            writer.WriteU63(header.Epoch);
            writer.WriteHash(header.SetHash);
            if (withNext)
            {
                writer.WriteHash(header.NextSetHash);
            }
        }
        else if (header.Epoch != 0)
        {
            throw new ArgumentException("A block of a later epoch names its validator set.", nameof(header));
        }

        if (withFailed)
        {
            writer.WriteShortBytes(header.FailedProposers);
        }
    }

    internal static void WriteQc(CanonicalWriter writer, QuorumCertificate qc)
    {
        writer.WriteHash(qc.BlockId);
        writer.WriteU63(qc.Round);
        writer.WriteShortBytes(qc.Signers);
        writer.WriteU16(qc.Signatures.Count);
        for (var i = 0; i < qc.Signatures.Count; i++)
        {
            writer.WriteFixed(qc.Signatures[i]);
        }
    }

    internal static BlockHeader ReadHeader(ref CanonicalReader reader)
    {
        var version = reader.ReadU8();
        if (version is < HeaderVersion or > HeaderVersionWithNextSetAndFailedProposers)
        {
            throw new MalformedMessageException($"unknown block header version {version}");
        }

        var header = new BlockHeader(
            Round: reader.ReadU63("round"),
            Height: reader.ReadU63("height"),
            Justify: ReadQc(ref reader),
            Proposer: reader.ReadU16(),
            Timestamp: reader.ReadU63("timestamp"),
            TxRoot: reader.ReadHash(),
            TxCount: reader.ReadU32(int.MaxValue, "header transaction count"),
            ExecutedHeight: reader.ReadU63("executed height"),
            ExecutedAppHash: reader.ReadHash());
        if (version >= HeaderVersionWithSet)
        {
            header = header with { Epoch = reader.ReadU63("epoch"), SetHash = reader.ReadHash() };
            if (header.SetHash == Hash32.Zero)
            {
                throw new MalformedMessageException($"block header of version {version} with a zero set hash; such a header has no set");
            }
        }

        if (version >= HeaderVersionWithNextSet)
        {
            header = header with { NextSetHash = reader.ReadHash() };
            if (header.NextSetHash == Hash32.Zero)
            {
                throw new MalformedMessageException($"block header of version {version} with a zero next set hash; such a header is written as version {version - 2}");
            }
        }

        // Odd versions have no failed proposers, even ones have some.
        if (version % 2 == 1)
        {
            return header;
        }

        var failed = reader.ReadShortBytes(ValidatorSet.MaxValidators / 8, "failed proposers bitmap");
        return failed.Length == 0
            ? throw new MalformedMessageException($"block header of version {version} without failed proposers; such a header is written as version {version - 1}")
            : header with { FailedProposers = failed };
    }

    internal static QuorumCertificate ReadQc(ref CanonicalReader reader)
    {
        var blockId = reader.ReadHash();
        var round = reader.ReadU63("QC round");
        var signers = reader.ReadShortBytes(ValidatorSet.MaxValidators / 8, "QC signer bitmap");
        var count = ReadSignatureCount(ref reader, "QC");
        var signatures = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            signatures[i] = ReadSignature(ref reader);
        }

        return new QuorumCertificate(blockId, round, signers, signatures);
    }

    internal static int ReadSignatureCount(ref CanonicalReader reader, string what)
    {
        var count = reader.ReadU16();
        return count <= ValidatorSet.MaxValidators
            ? count
            : throw new MalformedMessageException($"{what} carries {count} signatures, above the validator limit {ValidatorSet.MaxValidators}");
    }

    internal static byte[] ReadSignature(ref CanonicalReader reader) => reader.ReadFixed(SignatureSize).ToArray();
}
