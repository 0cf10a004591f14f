# bash completion for lsnitch(8) and lsnitch-agent(8)
# Installed as bash-completion/completions/lsnitch and .../lsnitch-agent.

_lsnitch()
{
	local cur prev words cword i cmd=""
	_init_completion || return

	case $prev in
	-s | --socket)
		_filedir
		return
		;;
	--cgroup)
		local root
		root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts 2>/dev/null)
		[ -n "$root" ] && COMPREPLY=($(compgen -d -- "${cur:-$root/}"))
		return
		;;
	--policy)
		return
		;;
	esac
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s | --socket) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--socket --json --help --version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'status reload explain events help' -- "$cur"))
		fi
		return
	fi
	case $cmd in
	explain)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--policy --cgroup' -- "$cur"))
		elif [[ ${words[cword - 2]} =~ ^[0-9a-fA-F:.]+$ || ${words[cword - 3]} == --* ]]; then
			COMPREPLY=($(compgen -W 'tcp udp' -- "$cur"))
		else
			_known_hosts_real -- "$cur"
		fi
		;;
	esac
}
complete -F _lsnitch lsnitch

_lsnitch_agent()
{
	local cur prev words cword
	_init_completion || return

	case $prev in
	--config | --blocked-hosts | --blocked-domains | --control)
		_filedir
		return
		;;
	--rules | --units | --pin-dir)
		_filedir -d
		return
		;;
	--cgroup)
		local root
		root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts 2>/dev/null)
		[ -n "$root" ] && COMPREPLY=($(compgen -d -- "${cur:-$root/}"))
		return
		;;
	--control-group)
		COMPREPLY=($(compgen -g -- "$cur"))
		return
		;;
	esac
	COMPREPLY=($(compgen -W '--cgroup --config --rules --units --blocked-hosts
		--blocked-domains --audit --log-allowed --check --pin-dir --keep-on-stop
		--control --control-group -v --help --version' -- "$cur"))
}
complete -F _lsnitch_agent lsnitch-agent
