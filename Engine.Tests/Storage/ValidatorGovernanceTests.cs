using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Governance;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Storage.Snapshots;
using LinqToDB;
using NSec.Cryptography;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// validator_join, _approve, _remove and _leave executed in blocks: the thresholds, the refusals with their codes, the
/// epoch a passed change schedules, and the governance state carried by the app hash and by snapshots.
/// </summary>
public abstract class ValidatorGovernanceTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    private const string Chain = "idos-test";
    private readonly Key[] _validators = [.. Enumerable.Range(0, 5).Select(_ => NewKey())];
    private readonly Key _candidate = NewKey();
    private readonly Dictionary<Key, ulong> _nonces = [];
    private readonly byte[] _pin = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private long _height;
    private byte[] _appHash = new byte[32];

    [Fact]
    public void A_join_passes_with_more_than_two_thirds_of_the_set_and_schedules_the_next_epoch_ten_blocks_later()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state, Genesis(4));

        var asked = Run(executor, state, Join(_candidate, "node5.example:7000"));
        var approvals = Run(executor, state, Approve(_validators[0], _candidate), Approve(_validators[1], _candidate));
        var passed = Run(executor, state, Approve(_validators[2], _candidate));

        Assert.Equal([TxCode.Ok], asked.Select(r => r.Code));
        Assert.Equal([TxCode.Ok, TxCode.Ok], approvals.Select(r => r.Code));
        Assert.Contains("2 approval(s)", approvals[1].Log, StringComparison.Ordinal);
        Assert.Equal(TxCode.Ok, passed[0].Code);
        Assert.Equal($"epoch 1 of 5 validators starts at height {_height + 10}", passed[0].Log);
        var epochs = Governance(4).Epochs(state.Connection);
        Assert.Equal(2, epochs.Count);
        Assert.Equal(_height + 10, epochs[1].StartHeight);
        Assert.Equal(_height, epochs[1].DecidedHeight);
        Assert.Equal([.. Genesis(4).Select(m => m.Key), Hex(_candidate)], epochs[1].Members.Select(m => m.Key));
        Assert.Equal("node5.example:7000", epochs[1].Members[^1].Address);
        Assert.Equal([Convert.ToHexStringLower(_pin)], epochs[1].Members[^1].Pins);
        Assert.Equal(ValidatorMember.SetHash(epochs[1].Members.Select(m => m.Key)), epochs[1].SetHash);
        Assert.Empty(ValidatorGovernance.OpenRequests(state.Connection, _height));
    }

    [Fact]
    public void Each_refusal_has_its_code_and_reason_and_changes_nothing_but_the_nonce()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state, Genesis(4));
        var outsider = NewKey();

        var results = Run(executor, state,
            Approve(_validators[0], _candidate),
            Join(_candidate, "not an address"),
            Join(_validators[1], "node2.example:7000"),
            Join(_candidate, "[::1]:7000"),
            Join(_candidate, "[::1]:7000"),
            Approve(outsider, _candidate),
            Approve(_validators[0], _candidate),
            Approve(_validators[0], _candidate),
            Remove(_validators[1], _validators[1]),
            Leave(_validators[3]));

        Assert.Equal(
            [TxCode.NoOpenRequest, TxCode.InvalidGovernance, TxCode.AlreadyDone, TxCode.Ok, TxCode.AlreadyDone, TxCode.NotAValidator,
             TxCode.Ok, TxCode.AlreadyDone, TxCode.InvalidGovernance, TxCode.SetTooSmall],
            results.Select(r => r.Code));
        Assert.Contains("fewer than 4", results[9].Log, StringComparison.Ordinal);
        Assert.Contains("is not in the validator set of epoch 0", results[5].Log, StringComparison.Ordinal);
        Assert.Single(Governance(4).Epochs(state.Connection));
        var request = Assert.Single(ValidatorGovernance.OpenRequests(state.Connection, _height));
        Assert.Equal(Hex(_validators[0]), request.Approvals);
        Assert.Equal(3L, state.Connection.GetTable<AccountRow>().Single(a => a.Identifier == Public(_validators[0])).Nonce);
    }

    [Fact]
    public void A_change_that_leaves_fewer_live_validators_than_the_quorum_is_refused_until_they_are_back()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state, Genesis(4));
        var threeLive = new HashSet<string>(_validators[..3].Select(Hex));
        Run(executor, state, Join(_candidate, "node5.example:7000"), Approve(_validators[0], _candidate), Approve(_validators[1], _candidate));

        // Five validators need four live for a quorum; the candidate has not voted yet and one of four is down.
        var refused = Run(executor, state, threeLive, Approve(_validators[2], _candidate));
        var passed = Run(executor, state, new HashSet<string>(threeLive) { Hex(_validators[3]) }, Approve(_validators[2], _candidate));

        Assert.Equal(TxCode.TooFewLive, refused[0].Code);
        Assert.Contains("leaves 3 live validators of 5, fewer than the quorum of 4", refused[0].Log, StringComparison.Ordinal);
        Assert.Equal(TxCode.Ok, passed[0].Code);
        Assert.Equal(2, Governance(4).Epochs(state.Connection).Count);
    }

    [Fact]
    public void A_removal_passes_with_more_than_two_thirds_of_the_others_and_a_leave_at_once()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state, Genesis(5));
        var target = _validators[4];

        var votes = Run(executor, state, Remove(_validators[0], target), Remove(_validators[1], target), Remove(target, _validators[0]));
        var removed = Run(executor, state, Remove(_validators[2], target));
        var firstEpoch = _height + 10;
        var left = Run(executor, state, Leave(_validators[3], allowFewerThanFour: true));

        Assert.Equal([TxCode.Ok, TxCode.Ok, TxCode.Ok], votes.Select(r => r.Code));
        Assert.Equal($"epoch 1 of 4 validators starts at height {firstEpoch}", removed[0].Log);
        Assert.Equal($"epoch 2 of 3 validators starts at height {firstEpoch + 1}", left[0].Log);
        var epochs = Governance(5).Epochs(state.Connection);
        Assert.Equal([.. _validators[..3].Select(Hex)], epochs[2].Members.Select(m => m.Key));
        // The target's own vote against validator 0 stays open; it no longer counts once the target is out.
        var open = Assert.Single(ValidatorGovernance.OpenRequests(state.Connection, _height));
        Assert.Equal($"remove:{Hex(_validators[0])}", open.Id);
    }

    [Fact]
    public void A_request_lapses_after_its_lifetime_and_can_be_made_again()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state, Genesis(4), new GovernanceRules(RequestLifetime: 2));

        Run(executor, state, Join(_candidate, "node5.example:7000"));
        Run(executor, state);
        Run(executor, state);
        var late = Run(executor, state, Approve(_validators[0], _candidate));
        var again = Run(executor, state, Join(_candidate, "node5.example:7001"), Approve(_validators[0], _candidate));

        Assert.Equal(TxCode.NoOpenRequest, late[0].Code);
        Assert.Equal([TxCode.Ok, TxCode.Ok], again.Select(r => r.Code));
        Assert.Equal("node5.example:7001", Assert.Single(ValidatorGovernance.OpenRequests(state.Connection, _height)).Address);
    }

    [Fact]
    public void Governance_rows_count_as_changes_for_the_app_hash()
    {
        using var state = StateDatabase.Open(Options);
        using var transaction = state.Connection.BeginTransaction();

        state.Connection.Insert(new ValidatorRequestRow { Id = "join:00", Kind = "join", Subject = "00", OpenedHeight = 1, ExpiresHeight = 2 });

        Assert.NotNull(new ChangedRows().DigestAndClear(state.Connection));
    }

    [Fact]
    public void A_snapshot_carries_the_scheduled_sets_and_open_requests_to_an_imported_state()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state, Genesis(4));
        Run(executor, state, Join(_candidate, "node5.example:7000"));
        Run(executor, state, Approve(_validators[0], _candidate), Approve(_validators[1], _candidate), Approve(_validators[2], _candidate));
        Run(executor, state, Remove(_validators[0], _validators[1]));

        using var target = new SqliteTestFile();
        using var imported = StateDatabase.Open(target.Options);
        var chunks = new List<byte[]>();
        var offer = new SnapshotOffer(StateSnapshot.Write(state, (_, chunk) => chunks.Add(chunk.ToArray()), chunkBytes: 2048), _appHash);
        SnapshotImport.Import(imported, offer, new CertifiedHeight(_height, [(byte)_height], 1_700_000_000_000 + (_height * 1_000), offer.AppHash),
            i => chunks[i]);

        var epochs = Governance(4).Epochs(imported.Connection);
        Assert.Equal(Governance(4).Epochs(state.Connection).Select(e => (e.Epoch, e.StartHeight, e.SetHash, ValidatorMember.Format(e.Members))),
            epochs.Select(e => (e.Epoch, e.StartHeight, e.SetHash, ValidatorMember.Format(e.Members))));
        Assert.Equal(2, epochs.Count);
        Assert.Equal($"remove:{Hex(_validators[1])}", Assert.Single(ValidatorGovernance.OpenRequests(imported.Connection, _height)).Id);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var key in _validators.Append(_candidate))
            {
                key.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private List<TransactionResultRow> Run(BlockExecutor executor, StateDatabase state, params Func<byte[]>[] transactions) =>
        Run(executor, state, null, transactions);

    private List<TransactionResultRow> Run(BlockExecutor executor, StateDatabase state, IReadOnlySet<string>? live, params Func<byte[]>[] transactions)
    {
        _height++;
        var height = _height;
        _appHash = executor.Execute(new BlockInput(height, [(byte)height], 1_700_000_000_000 + (height * 1_000),
            [.. transactions.Select(t => t())], LiveValidators: live), _appHash);
        return [.. state.Connection.GetTable<TransactionResultRow>().Where(r => r.Height == height).OrderBy(r => r.Position)];
    }

    private List<ValidatorMember> Genesis(int count) => [.. _validators[..count].Select(k => new ValidatorMember(Hex(k), [], ""))];

    private ValidatorGovernance Governance(int count) => new(Genesis(count));

    private static BlockExecutor Executor(StateDatabase state, List<ValidatorMember> genesis, GovernanceRules? rules = null) =>
        new(state, Chain, new HashSet<string>(), Secp256k1.Recovery, governance: new ValidatorGovernance(genesis, rules));

    private Func<byte[]> Join(Key key, string address) => () => Signed(key, new ValidatorJoin(_pin, address));

    private Func<byte[]> Approve(Key key, Key candidate) => () => Signed(key, new ValidatorApprove(Public(candidate)));

    private Func<byte[]> Remove(Key key, Key target) => () => Signed(key, new ValidatorRemove(Public(target)));

    private Func<byte[]> Leave(Key key, bool allowFewerThanFour = false) => () => Signed(key, new ValidatorLeave(allowFewerThanFour));

    private byte[] Signed(Key key, ValidatorPayload payload) =>
        Ed25519Transactions.Signed(key, Chain, _nonces[key] = _nonces.GetValueOrDefault(key) + 1, payload.PayloadType, payload.Encode());

    private static Key NewKey() => Key.Create(SignatureAlgorithm.Ed25519);

    private static byte[] Public(Key key) => Ed25519Transactions.PublicKey(key);

    private static string Hex(Key key) => Convert.ToHexStringLower(Public(key));
}

[Trait("Category", "Unit")]
public sealed class SqliteValidatorGovernanceTests : ValidatorGovernanceTests<SqliteTestFile>;

[Trait("Category", "Postgres")]
public sealed class PostgresValidatorGovernanceTests : ValidatorGovernanceTests<PostgresTestSchema>;
