using System.CommandLine;
using System.Diagnostics;
using IdOS.Akka.Engine.Cli;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Hosting;

/// <summary>
/// The executables' command lines on System.CommandLine: every command and option explains itself in --help, --version
/// answers, a wrong value is refused naming its option (exit code 2), and the shell completion the `completion`
/// script asks for comes from the executable itself.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CommandLineTests
{
    private readonly RootCommand _root = Program.Root();

    [Fact]
    public void Every_command_option_and_argument_has_a_description()
    {
        var undescribed = Symbols(_root).Where(s => s is not RootCommand && string.IsNullOrWhiteSpace(s.Description) && !s.Hidden)
            .Select(s => s.Name).ToList();

        Assert.True(undescribed.Count == 0, "without a description: " + string.Join(", ", undescribed));
        Assert.Equal(["completion", "genesis", "keygen", "localnet", "rpc", "run", "status", "validator"],
            _root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Help_lists_a_commands_options_with_their_descriptions_and_defaults()
    {
        var (code, output) = await Invoke("status", "--help");

        Assert.Equal(0, code);
        Assert.Contains("--node <HOST:PORT>", output, StringComparison.Ordinal);
        Assert.Contains("a validator's admin listener", output, StringComparison.Ordinal);
        Assert.Contains("--interval", output, StringComparison.Ordinal);
        Assert.Contains("[default: 1]", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_version()
    {
        var (code, output) = await Invoke("--version");

        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
    }

    [Theory]
    [InlineData("status --node 127.0.0.1:26680 --interval 0", "--interval must be a whole number from 1 to 3600, got '0'")]
    [InlineData("status --node 127.0.0.1:26680 --interval soon", "--interval must be a whole number from 1 to 3600, got 'soon'")]
    [InlineData("status", "status needs either --node HOST:PORT")]
    [InlineData("localnet --app ledger", "'ledger'")]
    [InlineData("genesis --out g.json", "--validators")]
    [InlineData("run --config n.conf --colour", "--colour")]
    [InlineData("validator approve --key k --rpc http://127.0.0.1:8484", "--candidate")]
    public void A_wrong_command_line_is_refused_naming_the_option(string line, string message)
    {
        var errors = _root.Parse(line.Split(' ')).Errors.Select(e => e.Message).ToList();

        Assert.True(errors.Any(e => e.Contains(message, StringComparison.Ordinal)), string.Join("\n", errors));
    }

    [Fact]
    public void Completions_offer_the_commands_and_a_commands_options()
    {
        Assert.Contains("status", _root.Parse("st").GetCompletions().Select(c => c.Label));
        var options = _root.Parse("status --").GetCompletions().Select(c => c.Label).ToList();
        Assert.Contains("--node", options);
        Assert.Contains("--watch", options);
        Assert.Contains("opaque", _root.Parse("localnet --app ").GetCompletions().Select(c => c.Label));
    }

    [Fact]
    public void The_completion_scripts_ask_the_executable_through_the_suggest_directive()
    {
        var bash = CompletionCommand.Script("bash", "idos-engine");
        Assert.Contains("\"[suggest:${COMP_POINT}]\" \"${COMP_LINE}\"", bash, StringComparison.Ordinal);
        Assert.Contains("complete -o default -F _idos_engine_complete idos-engine", bash, StringComparison.Ordinal);
        Assert.Contains("compdef _idos_engine_complete idos-engine", CompletionCommand.Script("zsh", "idos-engine"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_executable_answers_a_suggest_directive_and_exits_2_naming_a_bad_option()
    {
        var (suggestCode, suggestions, _) = await Executable("[suggest:16]", "idos-engine stat");
        Assert.Equal(0, suggestCode);
        Assert.Contains("status", suggestions.Split('\n', StringSplitOptions.TrimEntries));

        var (code, output, error) = await Executable("status", "--node", "127.0.0.1:1", "--interval", "0");
        Assert.Equal(CommandLineApp.UsageExitCode, code);
        Assert.Equal("", output);
        Assert.Contains("error: --interval must be a whole number from 1 to 3600, got '0'", error, StringComparison.Ordinal);
        Assert.Contains("see: idos-engine status --help", error, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Output)> Invoke(params string[] args)
    {
        using var output = new StringWriter();
        var code = await _root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });
        return (code, output.ToString());
    }

    private static async Task<(int Code, string Output, string Error)> Executable(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "idos-engine.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    private static IEnumerable<Symbol> Symbols(Command command) =>
        command.Options.Cast<Symbol>().Concat(command.Arguments).Concat(command.Subcommands.SelectMany(Symbols)).Prepend(command);
}
