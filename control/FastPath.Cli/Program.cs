using System.CommandLine;
using FastPath.Cli;

return FastPathCli.Run(args);
