using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// To a node's `/user/query`: up to <paramref name="Count"/> committed blocks, newest first, from
/// <paramref name="AtOrBelow"/> down (0: from the committed head). What the explorer's block list shows.
/// </summary>
public sealed record RecentBlocksQuery(long AtOrBelow, int Count) : NodeMessage;

/// <summary>One committed block and up to <paramref name="TransactionLimit"/> of its transactions from <paramref name="TransactionOffset"/>.</summary>
public sealed record BlockQuery(long Height, int TransactionOffset, int TransactionLimit) : NodeMessage;

/// <summary>The validator set at the committed head, with the last block each validator's vote certified.</summary>
public sealed record ValidatorsQuery : NodeMessage
{
    public static ValidatorsQuery Instance { get; } = new();
}

/// <summary>
/// A committed block as the explorer shows it. <paramref name="Proposer"/> and <paramref name="Signers"/> (the votes
/// of the certificate over it) are indices into the set of <paramref name="Epoch"/>; <paramref name="BodyBytes"/> is
/// null once the body was pruned past the retention window.
/// </summary>
public sealed record BlockSummary(long Height, Hash32 Id, long Round, long TimestampMs, long Epoch, int Proposer, int TransactionCount, int? BodyBytes,
    IReadOnlyList<int> Signers);

/// <summary>
/// A transaction without its contents: what it does (an action's name, a payload type, or "opaque" for bytes that are
/// not a Kwil transaction) and its size, null when the body was pruned; its result code once executed.
/// </summary>
public sealed record TransactionSummary(Hash32 Hash, string? Action, int? Bytes, int? Code);

/// <summary>The public keys of an epoch's set, in index order.</summary>
public sealed record EpochKeys(long Epoch, IReadOnlyList<Ed25519PublicKey> Keys);

/// <summary>The blocks asked for, newest first, and the sets their indices refer to.</summary>
public sealed record RecentBlocksAnswer(long CommittedHeight, long ExecutedHeight, IReadOnlyList<BlockSummary> Blocks, IReadOnlyList<EpochKeys> Sets)
    : NodeMessage;

/// <summary>The block (null when the height is not committed here), the page of its transactions, and its epoch's set.</summary>
public sealed record BlockAnswer(long CommittedHeight, long ExecutedHeight, BlockSummary? Block, IReadOnlyList<TransactionSummary> Transactions,
    IReadOnlyList<EpochKeys> Sets) : NodeMessage;

/// <summary>
/// The set at <paramref name="Height"/> and, per validator, the newest block within the last
/// <see cref="ExplorerMessageCodec.MaxScannedBlocks"/> whose certificate holds its vote (0: none) and that block's time.
/// </summary>
public sealed record ValidatorsAnswer(long Height, EpochKeys Set, IReadOnlyList<long> LastVoteHeights, IReadOnlyList<long> LastVoteTimesMs) : NodeMessage;

/// <summary>The canonical encoding of the explorer's messages; every count is bounded before anything is allocated for it.</summary>
public static class ExplorerMessageCodec
{
    /// <summary>Blocks in one list answer.</summary>
    public const int MaxBlocks = 50;

    /// <summary>Transactions in one block answer; a larger block is read in pages.</summary>
    public const int MaxTransactions = 500;

    /// <summary>How far back a validators answer looks for each validator's last vote.</summary>
    public const int MaxScannedBlocks = 256;

    /// <summary>Validator sets in one answer: the blocks of one list span at most this many epochs that it names keys for.</summary>
    public const int MaxSets = 4;
    private const int MaxActionBytes = 256;

    public static IReadOnlyDictionary<string, Type> Manifests { get; } = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        ["LQ"] = typeof(RecentBlocksQuery),
        ["LA"] = typeof(RecentBlocksAnswer),
        ["LK"] = typeof(BlockQuery),
        ["LB"] = typeof(BlockAnswer),
        ["LV"] = typeof(ValidatorsQuery),
        ["LW"] = typeof(ValidatorsAnswer),
    };

    public static void Write(CanonicalWriter writer, NodeMessage message)
    {
        switch (message)
        {
            case RecentBlocksQuery query:
                writer.WriteU63(query.AtOrBelow);
                writer.WriteU32(query.Count);
                break;
            case BlockQuery query:
                writer.WriteU63(query.Height);
                writer.WriteU32(query.TransactionOffset);
                writer.WriteU32(query.TransactionLimit);
                break;
            case ValidatorsQuery:
                break;
            case RecentBlocksAnswer answer:
                writer.WriteU63(answer.CommittedHeight);
                writer.WriteU63(answer.ExecutedHeight);
                writer.WriteU32(answer.Blocks.Count);
                foreach (var block in answer.Blocks)
                {
                    WriteBlock(writer, block);
                }

                WriteSets(writer, answer.Sets);
                break;
            case BlockAnswer answer:
                writer.WriteU63(answer.CommittedHeight);
                writer.WriteU63(answer.ExecutedHeight);
                writer.WriteBool(answer.Block is not null);
                if (answer.Block is not null)
                {
                    WriteBlock(writer, answer.Block);
                }

                writer.WriteU32(answer.Transactions.Count);
                foreach (var transaction in answer.Transactions)
                {
                    WriteTransaction(writer, transaction);
                }

                WriteSets(writer, answer.Sets);
                break;
            case ValidatorsAnswer answer:
                if (answer.LastVoteHeights.Count != answer.Set.Keys.Count || answer.LastVoteTimesMs.Count != answer.Set.Keys.Count)
                {
                    throw new ArgumentException("a validators answer has one last vote per validator", nameof(message));
                }

                writer.WriteU63(answer.Height);
                WriteSets(writer, [answer.Set]);
                for (var i = 0; i < answer.Set.Keys.Count; i++)
                {
                    writer.WriteU63(answer.LastVoteHeights[i]);
                    writer.WriteU63(answer.LastVoteTimesMs[i]);
                }

                break;
            default:
                throw new ArgumentException($"{message?.GetType().Name} is not an explorer message", nameof(message));
        }
    }

    /// <summary>A reader for the message <paramref name="manifest"/> names, or null when it names none of these.</summary>
    public static CanonicalRead<NodeMessage>? Reader(string manifest) => manifest switch
    {
        "LQ" => (ref CanonicalReader r) => new RecentBlocksQuery(r.ReadU63("at or below"), r.ReadU32(MaxBlocks, "block count")),
        "LK" => (ref CanonicalReader r) => new BlockQuery(r.ReadU63("height"), r.ReadU32(int.MaxValue, "transaction offset"),
            r.ReadU32(MaxTransactions, "transaction limit")),
        "LV" => (ref CanonicalReader _) => ValidatorsQuery.Instance,
        "LA" => ReadRecentBlocks,
        "LB" => ReadBlockAnswer,
        "LW" => ReadValidators,
        _ => null,
    };

    private static void WriteBlock(CanonicalWriter writer, BlockSummary block)
    {
        writer.WriteU63(block.Height);
        writer.WriteHash(block.Id);
        writer.WriteU63(block.Round);
        writer.WriteU63(block.TimestampMs);
        writer.WriteU63(block.Epoch);
        writer.WriteU16(block.Proposer);
        writer.WriteU32(block.TransactionCount);
        WriteOptional(writer, block.BodyBytes);
        writer.WriteU16(block.Signers.Count);
        foreach (var signer in block.Signers)
        {
            writer.WriteU16(signer);
        }
    }

    private static BlockSummary ReadBlock(ref CanonicalReader reader)
    {
        var height = reader.ReadU63("height");
        var id = reader.ReadHash();
        var round = reader.ReadU63("round");
        var timestamp = reader.ReadU63("timestamp");
        var epoch = reader.ReadU63("epoch");
        var proposer = reader.ReadU16();
        var transactions = reader.ReadU32(int.MaxValue, "transaction count");
        var bytes = ReadOptional(ref reader, "body bytes");
        var signerCount = reader.ReadU16();
        if (signerCount > ValidatorSet.MaxValidators)
        {
            throw new MalformedMessageException($"signer count {signerCount} is above the limit {ValidatorSet.MaxValidators}");
        }

        var signers = new int[signerCount];
        for (var i = 0; i < signerCount; i++)
        {
            signers[i] = reader.ReadU16();
        }

        return new BlockSummary(height, id, round, timestamp, epoch, proposer, transactions, bytes, signers);
    }

    private static void WriteTransaction(CanonicalWriter writer, TransactionSummary transaction)
    {
        writer.WriteHash(transaction.Hash);
        writer.WriteBool(transaction.Action is not null);
        if (transaction.Action is not null)
        {
            writer.WriteString(transaction.Action.Length <= MaxActionBytes / 4 ? transaction.Action : transaction.Action[..(MaxActionBytes / 4)]);
        }

        WriteOptional(writer, transaction.Bytes);
        WriteOptional(writer, transaction.Code);
    }

    private static TransactionSummary ReadTransaction(ref CanonicalReader reader) => new(
        reader.ReadHash(),
        reader.ReadBool() ? System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxActionBytes, "action")) : null,
        ReadOptional(ref reader, "transaction bytes"),
        ReadOptional(ref reader, "result code"));

    private static void WriteSets(CanonicalWriter writer, IReadOnlyList<EpochKeys> sets)
    {
        writer.WriteU8(sets.Count);
        foreach (var set in sets)
        {
            writer.WriteU63(set.Epoch);
            writer.WriteU16(set.Keys.Count);
            foreach (var key in set.Keys)
            {
                writer.WriteFixed(key.Bytes);
            }
        }
    }

    private static List<EpochKeys> ReadSets(ref CanonicalReader reader)
    {
        var count = reader.ReadU8();
        if (count > MaxSets)
        {
            throw new MalformedMessageException($"set count {count} is above the limit {MaxSets}");
        }

        var sets = new List<EpochKeys>(count);
        for (var s = 0; s < count; s++)
        {
            var epoch = reader.ReadU63("epoch");
            var size = reader.ReadU16();
            if (size > ValidatorSet.MaxValidators)
            {
                throw new MalformedMessageException($"set size {size} is above the limit {ValidatorSet.MaxValidators}");
            }

            var keys = new Ed25519PublicKey[size];
            for (var i = 0; i < size; i++)
            {
                keys[i] = Ed25519PublicKey.TryCreate(reader.ReadFixed(Ed25519PublicKey.Size))
                    ?? throw new MalformedMessageException($"key {i} of epoch {epoch}'s set is not an ed25519 public key");
            }

            sets.Add(new EpochKeys(epoch, keys));
        }

        return sets;
    }

    private static RecentBlocksAnswer ReadRecentBlocks(ref CanonicalReader reader)
    {
        var committed = reader.ReadU63("committed height");
        var executed = reader.ReadU63("executed height");
        var count = reader.ReadU32(MaxBlocks, "block count");
        var blocks = new List<BlockSummary>(count);
        for (var i = 0; i < count; i++)
        {
            blocks.Add(ReadBlock(ref reader));
        }

        return new RecentBlocksAnswer(committed, executed, blocks, ReadSets(ref reader));
    }

    private static BlockAnswer ReadBlockAnswer(ref CanonicalReader reader)
    {
        var committed = reader.ReadU63("committed height");
        var executed = reader.ReadU63("executed height");
        var block = reader.ReadBool() ? ReadBlock(ref reader) : null;
        var count = reader.ReadU32(MaxTransactions, "transaction count");
        var transactions = new List<TransactionSummary>(count);
        for (var i = 0; i < count; i++)
        {
            transactions.Add(ReadTransaction(ref reader));
        }

        return new BlockAnswer(committed, executed, block, transactions, ReadSets(ref reader));
    }

    private static ValidatorsAnswer ReadValidators(ref CanonicalReader reader)
    {
        var height = reader.ReadU63("height");
        var sets = ReadSets(ref reader);
        if (sets.Count != 1)
        {
            throw new MalformedMessageException($"a validators answer names one set, not {sets.Count}");
        }

        var size = sets[0].Keys.Count;
        var heights = new long[size];
        var times = new long[size];
        for (var i = 0; i < size; i++)
        {
            heights[i] = reader.ReadU63("last vote height");
            times[i] = reader.ReadU63("last vote time");
        }

        return new ValidatorsAnswer(height, sets[0], heights, times);
    }

    private static void WriteOptional(CanonicalWriter writer, int? value)
    {
        writer.WriteBool(value is not null);
        if (value is { } present)
        {
            writer.WriteU32(present);
        }
    }

    private static int? ReadOptional(ref CanonicalReader reader, string what) => reader.ReadBool() ? reader.ReadU32(int.MaxValue, what) : null;
}
