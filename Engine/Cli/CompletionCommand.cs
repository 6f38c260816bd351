using System.CommandLine;

namespace IdOS.Akka.Engine.Cli;

/// <summary>
/// `completion bash|zsh`: a script that makes the shell complete commands, options and option values by asking the
/// executable itself (System.CommandLine's `[suggest:POSITION]` directive), so completion never lags the commands.
/// </summary>
public static class CompletionCommand
{
    public static Command Definition()
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.CompletionSources.Add("bash", "zsh");
        shell.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is not ("bash" or "zsh"))
            {
                result.AddError($"completion is for bash or zsh, not '{result.GetValueOrDefault<string>()}'");
            }
        });
        var command = new Command("completion", "Prints a shell completion script: eval \"$(idos-engine completion bash)\" in ~/.bashrc, or " +
            "source <(idos-engine completion zsh) in ~/.zshrc.")
        {
            shell,
        };
        command.SetAction(parse =>
        {
            parse.Output().Write(Script(parse.GetValue(shell)!, parse.RootCommandResult.Command.Name));
            return 0;
        });
        return command;
    }

    /// <summary>The script for <paramref name="shell"/>, completing <paramref name="executable"/> (as the shell finds it on PATH).</summary>
    public static string Script(string shell, string executable)
    {
        var function = "_" + new string([.. executable.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]) + "_complete";
        return shell switch
        {
            "bash" => $$"""
                {{function}}() {
                  local IFS=$'\n'
                  COMPREPLY=($(compgen -W "$("{{executable}}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
                }
                complete -o default -F {{function}} {{executable}}

                """,
            "zsh" => $$"""
                {{function}}() {
                  local -a suggestions
                  suggestions=("${(@f)$("{{executable}}" "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
                  compadd -a suggestions
                }
                compdef {{function}} {{executable}}

                """,
            _ => throw new UsageException($"completion is for bash or zsh, not {shell}"),
        };
    }
}
