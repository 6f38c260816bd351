using System.Data.Common;
using System.Reflection;
using System.Runtime.CompilerServices;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Microsoft.Data.Sqlite;

namespace IdOS.Akka.Engine.Storage;

/// <summary>
/// Commands kept on one connection by their SQL text, so that the driver parses and plans each statement once. A
/// LINQ query through linq2db builds its SQL text again on every execution and the driver prepares that text again
/// (together most of a small write's cost: docs/BENCHMARKS.md); the hot statements of the block store and the state
/// machine run through here instead. Parameters are positional — <c>@p0</c>, <c>@p1</c>, … in the text, values in
/// that order — and the text must be a constant of the caller: the cache keeps every text it is given.
/// </summary>
public sealed class PreparedStatements
{
    private static readonly ConditionalWeakTable<DataConnection, PreparedStatements> ByConnection = [];
    private static readonly string[] Names = [.. Enumerable.Range(0, 32).Select(i => $"@p{i}")];
    private readonly DataConnection _db;
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);
    private DbConnection? _connection;

    private PreparedStatements(DataConnection db) => _db = db;

    /// <summary>The statements of <paramref name="db"/>; they go when it goes.</summary>
    public static PreparedStatements Of(DataConnection db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return ByConnection.GetValue(db, connection => new PreparedStatements(connection));
    }

    public int Execute(string sql, params ReadOnlySpan<object?> values) => Bind(sql, values).ExecuteNonQuery();

    /// <summary>The first column of the first row; null when there is no row or the value is NULL.</summary>
    public object? Scalar(string sql, params ReadOnlySpan<object?> values) =>
        Bind(sql, values).ExecuteScalar() is { } value and not DBNull ? value : null;

    /// <summary>Whether the query returns a row.</summary>
    public bool Exists(string sql, params ReadOnlySpan<object?> values)
    {
        using var reader = Bind(sql, values).ExecuteReader();
        return reader.Read();
    }

    /// <summary>The rows of the query; dispose the reader before the next statement on this connection.</summary>
    public DbDataReader Read(string sql, params ReadOnlySpan<object?> values) => Bind(sql, values).ExecuteReader();

    /// <summary>Inserts a row of a mapped table (linq2db's Table and Column attributes), every column given.</summary>
    public void Insert<T>(T row)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(row);
        var values = new object?[Mapped<T>.Columns.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Mapped<T>.Columns[i].GetValue(row);
        }

        Execute(Mapped<T>.InsertSql, values);
    }

    /// <summary>Whether a row of a mapped table with a one-column primary key has the key <paramref name="key"/>.</summary>
    public bool ExistsWithKey<T>(object key)
        where T : class =>
        Exists(Mapped<T>.ExistsSql ?? throw new InvalidOperationException($"{typeof(T).Name} has no one-column primary key."), key);

    private DbCommand Bind(string sql, ReadOnlySpan<object?> values)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var connection = _db.OpenDbConnection();
        if (!ReferenceEquals(connection, _connection))
        {
            // linq2db opened a new connection (after a failure, say): commands of the old one cannot run on it.
            foreach (var stale in _commands.Values)
            {
                stale.Dispose();
            }

            _commands.Clear();
            _connection = connection;
        }

        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            for (var i = 0; i < values.Length; i++)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = i < Names.Length ? Names[i] : $"@p{i}";
                command.Parameters.Add(parameter);
            }

            _commands[sql] = command;
        }

        if (command.Parameters.Count != values.Length)
        {
            throw new ArgumentException($"The statement takes {command.Parameters.Count} values, {values.Length} were given: {sql}", nameof(values));
        }

        command.Transaction = _db.Transaction;
        var sqlite = connection is SqliteConnection;
        for (var i = 0; i < values.Length; i++)
        {
            // linq2db stores a UUID on SQLite as its 16 bytes; Microsoft.Data.Sqlite would bind a Guid as text.
            command.Parameters[i].Value = values[i] switch
            {
                null => DBNull.Value,
                Guid uuid when sqlite => uuid.ToByteArray(),
                var value => value,
            };
        }

        return command;
    }

    private static class Mapped<T>
    {
        public static readonly PropertyInfo[] Columns = [.. typeof(T).GetProperties().Where(p => p.GetCustomAttribute<ColumnAttribute>() is not null)];

        private static readonly string Table = typeof(T).GetCustomAttribute<TableAttribute>()?.Name
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not a mapped table.");

        public static readonly string InsertSql =
            $"INSERT INTO {Table} ({string.Join(", ", Columns.Select(ColumnName))}) VALUES ({string.Join(", ", Columns.Select((_, i) => $"@p{i}"))})";

        public static readonly string? ExistsSql = Columns.Where(c => c.GetCustomAttribute<PrimaryKeyAttribute>() is not null).ToList() is [var key]
            ? $"SELECT 1 FROM {Table} WHERE {ColumnName(key)} = @p0"
            : null;

        private static string ColumnName(PropertyInfo property) => property.GetCustomAttribute<ColumnAttribute>()!.Name!;
    }
}
