using System.Data;
using System.Data.Common;
using LinqToDB.Data;

namespace IdOS.Akka.Engine.Storage.Execution;

/// <summary>
/// The statements every transaction of a block runs (its nonce, its savepoint, its result), prepared once per block
/// on the block's database transaction. Built through LINQ they cost more than the action itself; the SQL here is
/// the same on SQLite and PostgreSQL.
/// </summary>
internal sealed class BlockCommands : IDisposable
{
    private readonly DbCommand _selectNonce;
    private readonly DbCommand _openAccount;
    private readonly DbCommand _advanceNonce;
    private readonly DbCommand _insertResult;
    private readonly DbCommand _savepoint;
    private readonly DbCommand _release;
    private readonly DbCommand _rollback;

    public BlockCommands(DataConnection db)
    {
        var connection = db.OpenDbConnection();
        var transaction = db.Transaction ?? throw new InvalidOperationException("Block commands run inside the block's transaction.");
        DbCommand Command(string sql, params (string Name, DbType Type)[] parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = transaction;
            foreach (var (name, type) in parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.DbType = type;
                command.Parameters.Add(parameter);
            }

            return command;
        }

        _selectNonce = Command("SELECT nonce FROM accounts WHERE identifier = @identifier AND key_type = @key_type",
            ("@identifier", DbType.Binary), ("@key_type", DbType.String));
        _openAccount = Command(
            "INSERT INTO accounts (identifier, key_type, nonce) VALUES (@identifier, @key_type, 1) ON CONFLICT (identifier, key_type) DO NOTHING",
            ("@identifier", DbType.Binary), ("@key_type", DbType.String));
        _advanceNonce = Command("UPDATE accounts SET nonce = @nonce WHERE identifier = @identifier AND key_type = @key_type AND nonce = @previous",
            ("@identifier", DbType.Binary), ("@key_type", DbType.String), ("@nonce", DbType.Int64), ("@previous", DbType.Int64));
        _insertResult = Command("INSERT INTO transaction_results (height, position, tx_hash, code, log) VALUES (@height, @position, @tx_hash, @code, @log)",
            ("@height", DbType.Int64), ("@position", DbType.Int32), ("@tx_hash", DbType.Binary), ("@code", DbType.Int32), ("@log", DbType.String));
        _savepoint = Command("SAVEPOINT idos_transaction");
        _release = Command("RELEASE SAVEPOINT idos_transaction");
        _rollback = Command("ROLLBACK TO SAVEPOINT idos_transaction");
    }

    /// <summary>The signer's last used nonce, 0 for a new account.</summary>
    public long Nonce(byte[] identifier, string keyType)
    {
        _selectNonce.Parameters[0].Value = identifier;
        _selectNonce.Parameters[1].Value = keyType;
        return _selectNonce.ExecuteScalar() is { } value and not DBNull ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>
    /// Spends <paramref name="nonce"/> if it is the account's next (1 opens a new account) in one statement, which
    /// is all a valid transaction costs; false, spending nothing, if it is not.
    /// </summary>
    public bool TrySpendNonce(byte[] identifier, string keyType, ulong nonce)
    {
        if (nonce is 0 or > long.MaxValue)
        {
            return false;
        }

        if (nonce == 1)
        {
            _openAccount.Parameters[0].Value = identifier;
            _openAccount.Parameters[1].Value = keyType;
            return _openAccount.ExecuteNonQuery() == 1;
        }

        _advanceNonce.Parameters[0].Value = identifier;
        _advanceNonce.Parameters[1].Value = keyType;
        _advanceNonce.Parameters[2].Value = (long)nonce;
        _advanceNonce.Parameters[3].Value = (long)nonce - 1;
        return _advanceNonce.ExecuteNonQuery() == 1;
    }

    public void InsertResult(long height, int position, byte[] transactionHash, int code, string log)
    {
        _insertResult.Parameters[0].Value = height;
        _insertResult.Parameters[1].Value = position;
        _insertResult.Parameters[2].Value = transactionHash;
        _insertResult.Parameters[3].Value = code;
        _insertResult.Parameters[4].Value = log;
        _insertResult.ExecuteNonQuery();
    }

    public void Savepoint() => _savepoint.ExecuteNonQuery();

    public void Release() => _release.ExecuteNonQuery();

    /// <summary>Undoes everything since the savepoint and ends it.</summary>
    public void RollBack()
    {
        _rollback.ExecuteNonQuery();
        _release.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var command in new[] { _selectNonce, _openAccount, _advanceNonce, _insertResult, _savepoint, _release, _rollback })
        {
            command.Dispose();
        }
    }
}
