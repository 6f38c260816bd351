using System.Diagnostics.CodeAnalysis;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// The canonical encoding of node messages, the one the wire serializer uses: each message's fields in order, every
/// count and length bounded by the consensus limits before anything is allocated for it.
/// </summary>
public static class NodeMessageCodec
{
    /// <summary>A query answers at most this many hashes at once.</summary>
    public const int MaxQueriedTransactions = 1024;

    private const int MaxIdentifierBytes = 256;

    /// <summary>More than any validator set this node would run with; a longer list is not a peer's honest hint.</summary>
    public const int MaxPeerAddresses = 256;

    private const int MaxReasonBytes = 1024;

    /// <summary>Every manifest <see cref="Manifest"/> gives, so the serializer knows which bytes are node messages.</summary>
    public static readonly IReadOnlySet<string> Manifests = new HashSet<string>(
        ["ST", "SR", "FT", "SQ", "NS", "RQ", "RA", "HQ", "HA", "AQ", "AA", "VQ", "VA", "PX", "CS", "CA", "CB", "XS", "XB", "OQ", "OA", "KQ", "KA",
            .. ExplorerMessageCodec.Manifests.Keys], StringComparer.Ordinal);

    private static readonly Dictionary<Type, string> ExplorerManifests = ExplorerMessageCodec.Manifests.ToDictionary(pair => pair.Value, pair => pair.Key);

    public static string Manifest(NodeMessage message) => message switch
    {
        SubmitTransactions => "ST",
        SubmitResults => "SR",
        ForwardedTransactions => "FT",
        StatusQuery => "SQ",
        NodeStatus => "NS",
        TransactionResultsQuery => "RQ",
        TransactionResults => "RA",
        AppHashQuery => "HQ",
        AppHashAnswer => "HA",
        AccountQuery => "AQ",
        AccountAnswer => "AA",
        ReadBatchQuery => "VQ",
        ReadBatchAnswer => "VA",
        PeerAddresses => "PX",
        SubscribeCommits => "CS",
        CommitSubscription => "CA",
        CommittedBlock => "CB",
        SubscribeExecutions => "XS",
        ExecutedBlock => "XB",
        SnapshotOffersQuery => "OQ",
        SnapshotOffers => "OA",
        SnapshotChunkQuery => "KQ",
        SnapshotChunk => "KA",
        _ when message is not null && ExplorerManifests.TryGetValue(message.GetType(), out var explorer) => explorer,
        _ => throw new ArgumentException($"{message?.GetType().Name} is not a node message", nameof(message)),
    };

    public static byte[] Encode(NodeMessage message)
    {
        var writer = new CanonicalWriter(ExpectedSize(message));
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
            case StatusQuery or SubscribeCommits or SubscribeExecutions or SnapshotOffersQuery:
                break;
            case SnapshotOffers offers:
                WriteTransactions(writer, offers.Offers);
                break;
            case SnapshotChunkQuery query:
                writer.WriteU63(query.Height);
                writer.WriteU32(query.Index);
                break;
            case SnapshotChunk chunk:
                writer.WriteU63(chunk.Height);
                writer.WriteU32(chunk.Index);
                writer.WriteBytes(chunk.Bytes);
                break;
            case CommitSubscription subscription:
                writer.WriteBool(subscription.Accepted);
                writer.WriteU63(subscription.Height);
                writer.WriteString(Truncate(subscription.Reason));
                break;
            case ExecutedBlock executed:
                writer.WriteU63(executed.Height);
                WriteHashes(writer, executed.TransactionHashes);
                break;
            case CommittedBlock committed:
                writer.WriteU63(committed.Height);
                writer.WriteU63(committed.ProposedAtUnixMs);
                writer.WriteU63(committed.CommittedAtUnixUs);
                WriteHashes(writer, committed.TransactionHashes);
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
                writer.WriteString(status.ChainId);
                writer.WriteHash(status.AppHash);
                writer.WriteU63(status.LastBlockTimestampMs);
                writer.WriteU63(status.SignaturesVerifiedByConsensus);
                writer.WriteU63(status.BlockBytesServed);
                writer.WriteU63(status.BlockRequestsOverLimit);
                writer.WriteU63(status.ExecutedHeight);
                writer.WriteU63(status.ProposalsHeldForExecution);
                writer.WriteU63(status.Epoch);
                writer.WriteU32(status.SetSize);
                writer.WriteBool(status.Voting);
                writer.WriteU63(status.NetworkHeight);
                writer.WriteString(Truncate(status.Unhealthy));
                writer.WriteBool(status.Syncing);
                writer.WriteU16(status.Leader < 0 ? ushort.MaxValue : status.Leader);
                break;
            case TransactionResultsQuery query:
                WriteHashes(writer, query.Hashes);
                writer.WriteBool(query.IncludeTransactions);

                break;
            case TransactionResults answer:
                writer.WriteU63(answer.ExecutedHeight);
                writer.WriteU32(answer.Results.Count);
                foreach (var outcome in answer.Results)
                {
                    writer.WriteBool(outcome is not null);
                    if (outcome is not null)
                    {
                        writer.WriteU63(outcome.Height);
                        writer.WriteU32(outcome.Position);
                        writer.WriteU32(outcome.Code);
                        writer.WriteString(Truncate(outcome.Log));
                        writer.WriteBool(outcome.Transaction is not null);
                        if (outcome.Transaction is not null)
                        {
                            writer.WriteBytes(outcome.Transaction);
                        }
                    }
                }

                break;
            case AppHashQuery query:
                writer.WriteU63(query.Height);
                break;
            case AppHashAnswer answer:
                writer.WriteU63(answer.Height);
                writer.WriteBool(answer.AppHash is not null);
                if (answer.AppHash is { } appHash)
                {
                    writer.WriteHash(appHash);
                }

                break;
            case AccountQuery query:
                writer.WriteShortBytes(query.Identifier);
                writer.WriteString(query.KeyType);
                break;
            case AccountAnswer answer:
                writer.WriteU63(answer.NextNonce);
                writer.WriteU63(answer.ExecutedHeight);
                break;
            case PeerAddresses peers:
                writer.WriteU32(peers.Addresses.Count);
                foreach (var address in peers.Addresses)
                {
                    writer.WriteString(address);
                }

                break;
            case ReadBatchQuery query:
                writer.WriteU32(query.Calls.Count);
                foreach (var call in query.Calls)
                {
                    writer.WriteString(call.Caller);
                    writer.WriteShortBytes(call.Signer);
                    writer.WriteString(call.Authenticator);
                    writer.WriteBytes(call.Payload);
                }

                writer.WriteU32(query.Accounts.Count);
                foreach (var account in query.Accounts)
                {
                    writer.WriteShortBytes(account.Identifier);
                    writer.WriteString(account.KeyType);
                }

                writer.WriteU63(query.AtLeastHeight);
                break;
            case ReadBatchAnswer answer:
                writer.WriteU63(answer.Height);
                writer.WriteBool(answer.Behind);
                writer.WriteU32(answer.NextNonces.Count);
                foreach (var nonce in answer.NextNonces)
                {
                    writer.WriteU63(nonce);
                }

                writer.WriteU32(answer.Answers.Count);
                foreach (var view in answer.Answers)
                {
                    writer.WriteU32(view.Code);
                    writer.WriteString(Truncate(view.Error));
                    writer.WriteU32(view.Columns.Count);
                    foreach (var column in view.Columns)
                    {
                        writer.WriteString(column);
                    }

                    writer.WriteU32(view.Rows.Count);
                    foreach (var row in view.Rows)
                    {
                        foreach (var value in row)
                        {
                            ViewValueCodec.Write(writer, value);
                        }
                    }
                }

                break;
            default:
                ExplorerMessageCodec.Write(writer, message);
                break;
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
            "RQ" => ReadResultsQuery,
            "RA" => (ref CanonicalReader r) => ReadTransactionResults(ref r, limits),
            "HQ" => (ref CanonicalReader r) => new AppHashQuery(r.ReadU63("height")),
            "HA" => (ref CanonicalReader r) => new AppHashAnswer(r.ReadU63("height"), r.ReadBool() ? r.ReadHash() : null),
            "AQ" => (ref CanonicalReader r) => new AccountQuery(r.ReadShortBytes(MaxIdentifierBytes, "identifier"),
                System.Text.Encoding.UTF8.GetString(r.ReadShortBytes(MaxIdentifierBytes, "key type"))),
            "AA" => (ref CanonicalReader r) => new AccountAnswer(r.ReadU63("next nonce"), r.ReadU63("executed height")),
            "VQ" => (ref CanonicalReader r) => DecodeReadBatchQuery(ref r, limits),
            "VA" => DecodeReadBatchAnswer,
            "PX" => DecodePeerAddresses,
            "CS" => (ref CanonicalReader _) => SubscribeCommits.Instance,
            "CA" => (ref CanonicalReader r) => new CommitSubscription(r.ReadBool(), r.ReadU63("height"),
                System.Text.Encoding.UTF8.GetString(r.ReadShortBytes(MaxReasonBytes, "reason"))),
            "CB" => (ref CanonicalReader r) => DecodeCommittedBlock(ref r, limits),
            "XS" => (ref CanonicalReader _) => SubscribeExecutions.Instance,
            "XB" => (ref CanonicalReader r) => new ExecutedBlock(r.ReadU63("height"), ReadHashes(ref r, limits)),
            "OQ" => (ref CanonicalReader _) => SnapshotOffersQuery.Instance,
            "OA" => (ref CanonicalReader r) => DecodeSnapshotOffers(ref r, limits),
            "KQ" => (ref CanonicalReader r) => new SnapshotChunkQuery(r.ReadU63("height"), r.ReadU32(int.MaxValue, "chunk index")),
            "KA" => (ref CanonicalReader r) => new SnapshotChunk(r.ReadU63("height"), r.ReadU32(int.MaxValue, "chunk index"),
                r.ReadBytes(limits.MaxMessageBytes, "chunk")),
            _ => ExplorerMessageCodec.Reader(manifest),
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
        for (var i = 0; i < transactions.Count; i++)
        {
            writer.WriteBytes(transactions[i]);
        }
    }

    /// <summary>
    /// The exact length of the bulky messages — transaction batches (up to a block's worth) and commit notices — so
    /// that they are written into one array instead of grown by doubling and copied; the small ones start at 256 bytes.
    /// </summary>
    private static int ExpectedSize(NodeMessage message) => message switch
    {
        SubmitTransactions submit => TransactionsSize(submit.Transactions),
        ForwardedTransactions forwarded => TransactionsSize(forwarded.Transactions),
        CommittedBlock committed => (3 * sizeof(long)) + sizeof(int) + (committed.TransactionHashes.Count * Hash32.Size),
        ExecutedBlock executed => sizeof(long) + sizeof(int) + (executed.TransactionHashes.Count * Hash32.Size),
        SnapshotOffers offers => TransactionsSize(offers.Offers),
        SnapshotChunk chunk => sizeof(long) + (2 * sizeof(int)) + chunk.Bytes.Length,
        _ => 256,
    };

    private static int TransactionsSize(IReadOnlyList<byte[]> transactions)
    {
        var total = sizeof(int);
        for (var i = 0; i < transactions.Count; i++)
        {
            total += sizeof(int) + transactions[i].Length;
        }

        return total;
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

    private static NodeStatus ReadStatus(ref CanonicalReader reader) => ReadStatusFields(ref reader) with
    {
        Epoch = reader.ReadU63("epoch"),
        SetSize = reader.ReadU32(ValidatorSet.MaxValidators, "set size"),
        Voting = reader.ReadBool(),
        NetworkHeight = reader.ReadU63("network height"),
        Unhealthy = System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxReasonBytes, "health problem")),
        Syncing = reader.ReadBool(),
        Leader = reader.ReadU16() is var leader && leader == ushort.MaxValue ? -1 : leader,
    };

    private static NodeStatus ReadStatusFields(ref CanonicalReader reader) => new(
        reader.ReadU16(),
        reader.ReadU63("height"),
        reader.ReadU63("round"),
        reader.ReadHash(),
        reader.ReadU63("committed transactions"),
        reader.ReadU32(int.MaxValue, "pending transactions"),
        reader.ReadU32(int.MaxValue, "peers"),
        reader.ReadU63("rejected messages"),
        System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxReasonBytes, "last rejection")),
        System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxReasonBytes, "chain id")),
        reader.ReadHash(),
        reader.ReadU63("last block timestamp"),
        reader.ReadU63("signatures verified by consensus"),
        reader.ReadU63("block bytes served"),
        reader.ReadU63("block requests over limit"),
        reader.ReadU63("executed height"),
        reader.ReadU63("proposals held for execution"));

    private static TransactionResultsQuery ReadResultsQuery(ref CanonicalReader reader)
    {
        var count = reader.ReadU32(MaxQueriedTransactions, "hash count");
        var hashes = new List<Hash32>(count);
        for (var i = 0; i < count; i++)
        {
            hashes.Add(reader.ReadHash());
        }

        return new TransactionResultsQuery(hashes, reader.ReadBool());
    }

    private static TransactionResults ReadTransactionResults(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var height = reader.ReadU63("executed height");
        var count = reader.ReadU32(MaxQueriedTransactions, "result count");
        var results = new List<TransactionOutcome?>(count);
        for (var i = 0; i < count; i++)
        {
            results.Add(reader.ReadBool()
                ? new TransactionOutcome(reader.ReadU63("height"), reader.ReadU32(int.MaxValue, "position"), reader.ReadU32(int.MaxValue, "code"),
                    System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxReasonBytes, "log")),
                    reader.ReadBool() ? reader.ReadBytes(limits.MaxTransactionBytes, "transaction") : null)
                : null);
        }

        return new TransactionResults(height, results);
    }

    private static CommittedBlock DecodeCommittedBlock(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var height = reader.ReadU63("height");
        var proposedAt = reader.ReadU63("proposal time");
        var committedAt = reader.ReadU63("commit time");
        return new CommittedBlock(height, proposedAt, committedAt, ReadHashes(ref reader, limits));
    }

    /// <summary>A block's transaction hashes: at most a block's worth.</summary>
    private static Hash32[] ReadHashes(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var count = reader.ReadU32(limits.MaxTransactionsPerBlock, "transaction count");
        var hashes = new Hash32[count];
        for (var i = 0; i < count; i++)
        {
            hashes[i] = reader.ReadHash();
        }

        return hashes;
    }

    private static void WriteHashes(CanonicalWriter writer, IReadOnlyList<Hash32> hashes)
    {
        writer.WriteU32(hashes.Count);
        for (var i = 0; i < hashes.Count; i++)
        {
            writer.WriteHash(hashes[i]);
        }
    }

    private static SnapshotOffers DecodeSnapshotOffers(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var count = reader.ReadU32(SnapshotOffers.MaxOffers, "snapshot offer count");
        var offers = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            offers[i] = reader.ReadBytes(limits.MaxMessageBytes, "snapshot offer");
        }

        return new SnapshotOffers(offers);
    }

    private static PeerAddresses DecodePeerAddresses(ref CanonicalReader reader)
    {
        var count = reader.ReadU32(MaxPeerAddresses, "peer address count");
        var addresses = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            addresses.Add(System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxIdentifierBytes, "peer address")));
        }

        return new PeerAddresses(addresses);
    }

    private static ReadBatchQuery DecodeReadBatchQuery(ref CanonicalReader reader, ConsensusLimits limits)
    {
        var count = reader.ReadU32(ViewValueCodec.MaxCalls, "view count");
        var calls = new List<ViewCall>(count);
        for (var i = 0; i < count; i++)
        {
            calls.Add(new ViewCall(
                System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxIdentifierBytes, "caller")),
                reader.ReadShortBytes(MaxIdentifierBytes, "signer"),
                System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxIdentifierBytes, "authenticator")),
                reader.ReadBytes(limits.MaxTransactionBytes, "view payload")));
        }

        var accountCount = reader.ReadU32(ViewValueCodec.MaxCalls, "account count");
        var accounts = new List<AccountRef>(accountCount);
        for (var i = 0; i < accountCount; i++)
        {
            accounts.Add(new AccountRef(reader.ReadShortBytes(MaxIdentifierBytes, "identifier"),
                System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxIdentifierBytes, "key type"))));
        }

        return new ReadBatchQuery(calls, accounts, reader.ReadU63("at least height"));
    }

    private static ReadBatchAnswer DecodeReadBatchAnswer(ref CanonicalReader reader)
    {
        var height = reader.ReadU63("height");
        var behind = reader.ReadBool();
        var nonceCount = reader.ReadU32(ViewValueCodec.MaxCalls, "nonce count");
        var nonces = new List<long>(nonceCount);
        for (var i = 0; i < nonceCount; i++)
        {
            nonces.Add(reader.ReadU63("next nonce"));
        }

        var count = reader.ReadU32(ViewValueCodec.MaxCalls, "answer count");
        var answers = new List<ViewAnswer>(count);
        for (var i = 0; i < count; i++)
        {
            var code = reader.ReadU32(int.MaxValue, "code");
            var error = System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxReasonBytes, "error"));
            var columnCount = reader.ReadU32(ViewValueCodec.MaxColumns, "column count");
            var columns = new List<string>(columnCount);
            for (var c = 0; c < columnCount; c++)
            {
                columns.Add(System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxIdentifierBytes, "column")));
            }

            var rowCount = reader.ReadU32(ViewValueCodec.MaxRows, "row count");
            var rows = new List<IReadOnlyList<object?>>(Math.Min(rowCount, 1024));
            for (var r = 0; r < rowCount; r++)
            {
                var row = new object?[columnCount];
                for (var c = 0; c < columnCount; c++)
                {
                    row[c] = ViewValueCodec.Read(ref reader);
                }

                rows.Add(row);
            }

            answers.Add(new ViewAnswer(code, error, columns, rows));
        }

        return new ReadBatchAnswer(height, behind, answers, nonces);
    }

    private static string Truncate(string reason)
    {
        while (System.Text.Encoding.UTF8.GetByteCount(reason) > MaxReasonBytes)
        {
            reason = reason[..(reason.Length / 2)];
        }

        return reason;
    }
}
