namespace IdOS.Akka.Engine.Rpc.Explorer;

/// <summary>A validator by its index in its epoch's set, and its public key in hex ("" when the answering node does not keep that set).</summary>
public sealed record ValidatorRef(int Index, string Key);

/// <summary>A committed block as the explorer shows it; <paramref name="BodyBytes"/> is null once its body was pruned.</summary>
public sealed record ExplorerBlock(long Height, string Id, long Round, long TimeMs, long Epoch, ValidatorRef? Proposer, int TransactionCount, int? BodyBytes,
    IReadOnlyList<ValidatorRef> Signers);

/// <summary>A transaction by what it does and its size (null once pruned), and its result code once executed.</summary>
public sealed record ExplorerTransaction(string Hash, string? Action, int? Bytes, int? Code);

/// <summary>Committed blocks, newest first, with the committed and executed heights they were read at.</summary>
public sealed record ExplorerBlocks(long Height, long ExecutedHeight, IReadOnlyList<ExplorerBlock> Blocks);

/// <summary>One block (null when not committed) and a page of its transactions.</summary>
public sealed record ExplorerBlockPage(long Height, long ExecutedHeight, ExplorerBlock? Block, IReadOnlyList<ExplorerTransaction> Transactions);

/// <summary>A validator and the newest block whose certificate carries its vote (0: none among the blocks looked at).</summary>
public sealed record ValidatorVote(int Index, string Key, long LastVoteHeight, long LastVoteTimeMs);

/// <summary>The set at <paramref name="Height"/>.</summary>
public sealed record ExplorerValidators(long Height, long Epoch, IReadOnlyList<ValidatorVote> Validators);

/// <summary>The reads of the committed chain the explorer needs of a validator; nothing in them is personal data.</summary>
public interface IExplorerGateway
{
    Task<ExplorerBlocks> RecentBlocks(long atOrBelow, int count, CancellationToken cancel);

    Task<ExplorerBlockPage> Block(long height, int transactionOffset, int transactionLimit, CancellationToken cancel);

    Task<ExplorerValidators> Validators(CancellationToken cancel);
}
