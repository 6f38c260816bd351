namespace IdOS.Akka.Engine.Cli;

/// <summary>Thrown for a command line we cannot act on; the message is printed as is, with the usage.</summary>
public sealed class UsageException(string message) : Exception(message)
{
    public UsageException()
        : this("invalid command line")
    {
    }

    public UsageException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>"--name value" pairs and bare "--flag"s after a command word; unknown options are errors, not ignored.</summary>
public sealed class CommandLineOptions
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public CommandLineOptions(IReadOnlyList<string> args, IReadOnlySet<string> flags)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(flags);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new UsageException($"unexpected argument '{arg}'");
            }

            var name = arg[2..];
            if (_values.ContainsKey(name))
            {
                throw new UsageException($"option --{name} given twice");
            }

            if (flags.Contains(name))
            {
                _values[name] = null;
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                _values[name] = args[++i];
            }
            else
            {
                throw new UsageException($"option --{name} needs a value");
            }
        }
    }

    public bool Flag(string name)
    {
        _read.Add(name);
        return _values.ContainsKey(name);
    }

    public string Text(string name, string fallback)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var value) && value is not null ? value : fallback;
    }

    public long Number(string name, long fallback, long min, long max)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var text) || text is null)
        {
            return fallback;
        }

        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            || value < min || value > max)
        {
            throw new UsageException($"--{name} must be a whole number from {min} to {max}, got '{text}'");
        }

        return value;
    }

    /// <summary>Call after reading every option the command knows.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new UsageException($"unknown option{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown.Select(u => "--" + u))}");
        }
    }
}
