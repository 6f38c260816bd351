using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;

namespace IdOS.Akka.Engine.Cli;

/// <summary>A command line that parses but cannot be acted on (options that contradict each other, a value out of place); printed as is, with the hint to --help.</summary>
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

/// <summary>
/// How every executable of the project runs its commands on System.CommandLine: help for each command and option,
/// `--version`, completions through the `[suggest]` directive, a parse error named with its option and exit code 2,
/// and signals left to the commands that run until stopped (a node's clean stop outlasts System.CommandLine's grace).
/// </summary>
public static class CommandLineApp
{
    public const int UsageExitCode = 2;

    /// <summary>The executable's entry: parses, invokes, and turns errors into messages and exit codes.</summary>
    public static async Task<int> Invoke(RootCommand root, string[] args)
    {
        ArgumentNullException.ThrowIfNull(root);
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            return await Refuse(parse, parse.Errors.Select(e => e.Message));
        }

        try
        {
            return await parse.InvokeAsync(Invocation(Console.Out, Console.Error));
        }
        catch (UsageException e)
        {
            return await Refuse(parse, [e.Message]);
        }
        catch (Exception e) when (e is Hosting.NodeFileException or global::Akka.Configuration.ConfigurationException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>Runs one command from code (tests, the localnet's governance): a command line it cannot parse is a <see cref="UsageException"/>.</summary>
    public static async Task<int> Run(Command command, IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(output);
        var parse = command.Parse(args);
        if (parse.Errors.Count > 0)
        {
            throw new UsageException(string.Join("; ", parse.Errors.Select(e => e.Message)));
        }

        return await parse.InvokeAsync(Invocation(output, Console.Error));
    }

    /// <summary>The writer a command's action prints to: the console, or what a caller from code passed.</summary>
    public static TextWriter Output(this ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return parse.InvocationConfiguration.Output;
    }

    /// <summary>An option that takes a value and must be given.</summary>
    public static Option<string> Required(string name, string description, string? valueName = null) =>
        new(name) { Description = description, Required = true, HelpName = valueName };

    /// <summary>An option that takes a value and may be left out; <paramref name="fallback"/> is shown in the help.</summary>
    public static Option<string> Text(string name, string description, string fallback, string? valueName = null) =>
        new(name) { Description = description, DefaultValueFactory = _ => fallback, HelpName = valueName };

    /// <summary>A flag: present or not.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>
    /// One of a few words, offered as completions; another is refused naming the option and the words it takes. A null
    /// <paramref name="fallback"/> leaves the option unset when it is not given.
    /// </summary>
    public static Option<string> Choice(string name, string description, string? fallback, params string[] choices)
    {
        var option = new Option<string>(name) { Description = description, HelpName = string.Join('|', choices) };
        if (fallback is not null)
        {
            option.DefaultValueFactory = _ => fallback;
        }

        option.CompletionSources.Add(choices);
        option.Validators.Add(result =>
        {
            if (!result.Implicit && result.GetValueOrDefault<string>() is { } value && !choices.Contains(value, StringComparer.Ordinal))
            {
                result.AddError($"{name} is {string.Join(" or ", choices)}, not '{value}'");
            }
        });
        return option;
    }

    /// <summary>A whole number within bounds; text that is no number, or one out of them, is refused naming the option.</summary>
    public static Option<long> Number(string name, string description, long fallback, long min, long max, string valueName = "N")
    {
        var option = new Option<long>(name)
        {
            Description = description,
            HelpName = valueName,
            DefaultValueFactory = _ => fallback,
            CustomParser = result => ParseNumber(result, name, min, max),
        };
        return option;
    }

    /// <summary><see cref="Number"/> without a default: null when the option is not given.</summary>
    public static Option<long?> OptionalNumber(string name, string description, long min, long max, string valueName = "N") => new(name)
    {
        Description = description,
        HelpName = valueName,
        CustomParser = result => ParseNumber(result, name, min, max),
    };

    /// <summary><see cref="Number"/> for counts that fit an int.</summary>
    public static Option<int> Count(string name, string description, int fallback, int min, int max, string valueName = "N")
    {
        var option = new Option<int>(name)
        {
            Description = description,
            HelpName = valueName,
            DefaultValueFactory = _ => fallback,
            CustomParser = result => (int)ParseNumber(result, name, min, max),
        };
        return option;
    }

    private static long ParseNumber(ArgumentResult result, string name, long min, long max)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        result.AddError($"{name} must be a whole number from {min} to {max}, got '{text}'");
        return min;
    }

    private static async Task<int> Refuse(ParseResult parse, IEnumerable<string> messages)
    {
        foreach (var message in messages)
        {
            await Console.Error.WriteLineAsync($"error: {message}");
        }

        var path = string.Join(' ', ((SymbolResult?)parse.CommandResult).AncestorsAndSelf().Reverse().Select(result => result.Name));
        await Console.Error.WriteLineAsync($"see: {path} --help");
        return UsageExitCode;
    }

    private static IEnumerable<Command> AncestorsAndSelf(this SymbolResult? result)
    {
        for (; result is not null; result = result.Parent)
        {
            if (result is CommandResult command)
            {
                yield return command.Command;
            }
        }
    }

    private static InvocationConfiguration Invocation(TextWriter output, TextWriter error) => new()
    {
        Output = output,
        Error = error,
        ProcessTerminationTimeout = null,
        EnableDefaultExceptionHandler = false,
    };
}
