using System.Diagnostics.CodeAnalysis;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// The node's wire protocol besides consensus: clients submitting transactions and asking for status (the RPC layer,
/// localnet, tests), and validators forwarding admitted transactions to each other. Encoded with the same canonical
/// codec as consensus, and bound to it in hocon/node.conf.
/// </summary>
public abstract record NodeMessage;

/// <summary>To a node's `/user/mempool`; answered with <see cref="SubmitResults"/> in the same order.</summary>
public sealed record SubmitTransactions(IReadOnlyList<byte[]> Transactions) : NodeMessage;

public sealed record SubmitResults(IReadOnlyList<SubmitResult> Results) : NodeMessage;

public readonly record struct SubmitResult(Hash32 Hash, MempoolAddStatus Status, string? Reason);

/// <summary>Transactions one validator admitted, passed on so that whichever validator leads next can propose them.</summary>
public sealed record ForwardedTransactions(IReadOnlyList<byte[]> Transactions) : NodeMessage;

/// <summary>To a node's `/user/consensus`; answered with <see cref="NodeStatus"/>.</summary>
public sealed record StatusQuery : NodeMessage
{
    public static StatusQuery Instance { get; } = new();
}

public sealed record NodeStatus(
    int Validator,
    long Height,
    long Round,
    Hash32 LastBlockId,
    long CommittedTransactions,
    int PendingTransactions,
    int PeersConnected,
    long RejectedMessages,
    string LastRejection) : NodeMessage;

public static class NodeMessageCodec
{
    private const int MaxReasonBytes = 1024;

    public static string Manifest(NodeMessage message) => message switch
    {
        SubmitTransactions => "ST",
        SubmitResults => "SR",
        ForwardedTransactions => "FT",
        StatusQuery => "SQ",
        NodeStatus => "NS",
        _ => throw new ArgumentException($"{message?.GetType().Name} is not a node message", nameof(message)),
    };

    public static byte[] Encode(NodeMessage message)
    {
        var writer = new CanonicalWriter();
        switch (message)
        {
            case SubmitTransactions submit:
                WriteTransactions(writer, submit.Transactions);
                break;
            case ForwardedTransactions forwarded:
                WriteTransactions(writer, forwarded.Transactions);
                break;
            case SubmitResults results:
                writer.WriteU32(results.Results.Count);
                foreach (var result in results.Results)
                {
                    writer.WriteHash(result.Hash);
                    writer.WriteU8((int)result.Status);
                    writer.WriteString(Truncate(result.Reason ?? ""));
                }

                break;
            case StatusQuery:
                break;
            case NodeStatus status:
                writer.WriteU16(status.Validator);
                writer.WriteU63(status.Height);
                writer.WriteU63(status.Round);
                writer.WriteHash(status.LastBlockId);
                writer.WriteU63(status.CommittedTransactions);
                writer.WriteU32(status.PendingTransactions);
                writer.WriteU32(status.PeersConnected);
                writer.WriteU63(status.RejectedMessages);
                writer.WriteString(Truncate(status.LastRejection));
                break;
            default:
                throw new ArgumentException($"{message?.GetType().Name} is not a node message", nameof(message));
        }

        return writer.ToArray();
    }

    /// <summary>Decodes a message of the kind <paramref name="manifest"/> names; any other bytes give a reason, never an exception.</summary>
    public static bool TryDecode(string manifest, ReadOnlySpan<byte> bytes, ConsensusLimits limits,
        [NotNullWhen(true)] out NodeMessage? message, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        CanonicalRead<NodeMessage>? read = manifest switch
        {
            "ST" => (ref CanonicalReader r) => new SubmitTransactions(ReadTransactions(ref r, limits)),
            "FT" => (ref CanonicalReader r) => new ForwardedTransactions(ReadTransactions(ref r, limits)),
            "SR" => ReadResults,
            "SQ" => (ref CanonicalReader _) => StatusQuery.Instance,
            "NS" => ReadStatus,
            _ => null,
        };
        if (read is null)
        {
            message = null;
            error = $"unknown node message manifest '{manifest}'";
            return false;
        }

        return CanonicalReader.TryReadAll(bytes, manifest, read, out message, out error);
    }

    private static void WriteTransactions(CanonicalWriter writer, IReadOnlyList<byte[]> transactions)
    {
        writer.WriteU32(transactions.Count);
        foreach (var transaction in transactions)
        {
            writer.WriteBytes(transaction);
        }
    }

    /// <summary>At most a block's worth: more than one block could hold is never needed in one message.</summary>
    private static List<byte[]> ReadTransactions(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var count = reader.ReadU32(limits.MaxTransactionsPerBlock, "transaction count");
        var transactions = new List<byte[]>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            transactions.Add(reader.ReadBytes(limits.MaxTransactionBytes, "transaction"));
        }

        return transactions;
    }

    private static SubmitResults ReadResults(ref CanonicalReader reader)
    {
        var count = reader.ReadU32(ConsensusLimits.Default.MaxTransactionsPerBlock, "result count");
        var results = new List<SubmitResult>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            var hash = reader.ReadHash();
            var status = reader.ReadU8();
            if (!Enum.IsDefined((MempoolAddStatus)status))
            {
                throw new MalformedMessageException($"submit result status {status} is unknown");
            }

            var reason = System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxReasonBytes, "reason"));
            results.Add(new SubmitResult(hash, (MempoolAddStatus)status, reason.Length == 0 ? null : reason));
        }

        return new SubmitResults(results);
    }

    private static NodeStatus ReadStatus(ref CanonicalReader reader) => new(
        reader.ReadU16(),
        reader.ReadU63("height"),
        reader.ReadU63("round"),
        reader.ReadHash(),
        reader.ReadU63("committed transactions"),
        reader.ReadU32(int.MaxValue, "pending transactions"),
        reader.ReadU32(int.MaxValue, "peers"),
        reader.ReadU63("rejected messages"),
        System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxReasonBytes, "last rejection")));

    private static string Truncate(string reason)
    {
        while (System.Text.Encoding.UTF8.GetByteCount(reason) > MaxReasonBytes)
        {
            reason = reason[..(reason.Length / 2)];
        }

        return reason;
    }
}
