namespace IdOS.Akka.Engine.Kwil.Results;

/// <summary>Rows a view action returns, column names first (as `user.call` reports them).</summary>
public sealed record ActionOutcome(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<object?>> Rows)
{
    public static ActionOutcome None { get; } = new([], []);

    public static ActionOutcome Table(string[] columns, IEnumerable<object?[]> rows) => new(columns, [.. rows]);
}
