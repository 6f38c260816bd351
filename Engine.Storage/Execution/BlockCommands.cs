using LinqToDB.Data;

namespace IdOS.Akka.Engine.Storage.Execution;

/// <summary>
/// The statements every transaction of a block runs (its nonce, its savepoint, its result), prepared once on the
/// state's connection. Built through LINQ they cost more than the action itself; the SQL here is the same on SQLite
/// and PostgreSQL. Results wait for the end of the block and go 64 rows to a statement, which saves a statement's
/// fixed cost on nearly every transaction.
/// </summary>
internal sealed class BlockCommands
{
    private const int ResultsPerStatement = 64;
    private const string OpenAccount = "INSERT INTO accounts (identifier, key_type, nonce) VALUES (@p0, @p1, 1) ON CONFLICT (identifier, key_type) DO NOTHING";
    private const string AdvanceNonce = "UPDATE accounts SET nonce = @p2 WHERE identifier = @p0 AND key_type = @p1 AND nonce = @p3";
    private static readonly string InsertResults = InsertResultsSql(ResultsPerStatement);
    private static readonly string InsertResult = InsertResultsSql(1);
    private readonly PreparedStatements _statements;
    private readonly List<(long Height, int Position, byte[] Hash, int Code, string Log)> _results = [];
    private readonly object?[] _resultValues = new object?[ResultsPerStatement * 5];

    public BlockCommands(DataConnection db)
    {
        ArgumentNullException.ThrowIfNull(db);
        _ = db.Transaction ?? throw new InvalidOperationException("Block commands run inside the block's transaction.");
        _statements = PreparedStatements.Of(db);
    }

    /// <summary>The signer's last used nonce, 0 for a new account.</summary>
    public long Nonce(byte[] identifier, string keyType) => AccountNonces.Last(_statements, identifier, keyType);

    /// <summary>
    /// Spends <paramref name="nonce"/> if it is the account's next (1 opens a new account) in one statement, which
    /// is all a valid transaction costs; false, spending nothing, if it is not.
    /// </summary>
    public bool TrySpendNonce(byte[] identifier, string keyType, ulong nonce) => nonce switch
    {
        0 or > long.MaxValue => false,
        1 => _statements.Execute(OpenAccount, identifier, keyType) == 1,
        _ => _statements.Execute(AdvanceNonce, identifier, keyType, (long)nonce, (long)nonce - 1) == 1,
    };

    /// <summary>Keeps a transaction's result for <see cref="WriteResults"/>.</summary>
    public void AddResult(long height, int position, byte[] transactionHash, int code, string log) =>
        _results.Add((height, position, transactionHash, code, log));

    public void WriteResults()
    {
        var written = 0;
        for (; written + ResultsPerStatement <= _results.Count; written += ResultsPerStatement)
        {
            for (var r = 0; r < ResultsPerStatement; r++)
            {
                var (height, position, hash, code, log) = _results[written + r];
                _resultValues[(r * 5) + 0] = height;
                _resultValues[(r * 5) + 1] = position;
                _resultValues[(r * 5) + 2] = hash;
                _resultValues[(r * 5) + 3] = code;
                _resultValues[(r * 5) + 4] = log;
            }

            _statements.Execute(InsertResults, _resultValues);
        }

        for (; written < _results.Count; written++)
        {
            var (height, position, hash, code, log) = _results[written];
            _statements.Execute(InsertResult, height, position, hash, code, log);
        }

        _results.Clear();
    }

    public void Savepoint() => _statements.Execute("SAVEPOINT idos_transaction");

    public void Release() => _statements.Execute("RELEASE SAVEPOINT idos_transaction");

    /// <summary>Undoes everything since the savepoint and ends it.</summary>
    public void RollBack()
    {
        _statements.Execute("ROLLBACK TO SAVEPOINT idos_transaction");
        Release();
    }

    private static string InsertResultsSql(int rows) =>
        "INSERT INTO transaction_results (height, position, tx_hash, code, log) VALUES "
        + string.Join(", ", Enumerable.Range(0, rows).Select(r =>
            $"({PreparedStatements.ParameterName(r * 5)}, {PreparedStatements.ParameterName((r * 5) + 1)}, {PreparedStatements.ParameterName((r * 5) + 2)}, "
            + $"{PreparedStatements.ParameterName((r * 5) + 3)}, {PreparedStatements.ParameterName((r * 5) + 4)})"));
}
