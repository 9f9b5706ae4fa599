# SPDX-License-Identifier: ISC
# bash completion for leasepool(1): its commands and options, and the pools
# and job functions of the daemon, as `leasepool ping` lists them.
# make install puts it in $(PREFIX)/share/bash-completion/completions.

# The words of ping's "pools:" or "functions:" line, from the socket that
# the command line names, if it names one.
_leasepool_ping()
{
	local i socket=()

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s | --socket) socket=(-s "${COMP_WORDS[i + 1]}") ;;
		esac
	done
	"${COMP_WORDS[0]}" "${socket[@]}" ping 2>/dev/null |
		sed -n "s/ (exec)//g; s/^$1://p"
}

# The index of the first word from $1 on that is neither an option nor the
# value of one of the options in $2; nothing when the cursor comes first.
_leasepool_first_word()
{
	local i

	for ((i = $1; i < COMP_CWORD; i++)); do
		case " $2 " in
		*" ${COMP_WORDS[i]} "*) ((i++)) ;;
		*)
			[[ ${COMP_WORDS[i]} == -* ]] || { echo "$i"; return; } ;;
		esac
	done
}

_leasepool()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local command

	COMPREPLY=()
	command=$(_leasepool_first_word 1 "-s --socket -p --pool -t --timeout -j --job-timeout -o --owner")
	if [[ -z $command ]]; then
		case $prev in
		-p | --pool)
			COMPREPLY=($(compgen -W "$(_leasepool_ping pools)" -- "$cur")) ;;
		-s | --socket)
			COMPREPLY=($(compgen -f -- "$cur")) ;;
		-t | --timeout | -j | --job-timeout | -o | --owner) ;;
		*)
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "-s --socket -p --pool -t --timeout -n --nowait
				    -j --job-timeout -o --owner -h --help -V --version" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "ping stats run submit exec help" -- "$cur"))
			fi ;;
		esac
		return
	fi
	case ${COMP_WORDS[command]} in
	stats)
		COMPREPLY=($(compgen -W "--json --prometheus" -- "$cur")) ;;
	run | submit)
		# Options, then the function, then its arguments: any words.
		[[ $prev == --kw || -n $(_leasepool_first_word $((command + 1)) --kw) ]] && return
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--kw" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_leasepool_ping functions)" -- "$cur"))
		fi ;;
	exec)
		if [[ $prev == -C || $prev == --directory ]]; then
			COMPREPLY=($(compgen -d -- "$cur"))
		elif [[ -n $(_leasepool_first_word $((command + 1)) "-C --directory") ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-C --directory --" -- "$cur"))
		else
			COMPREPLY=($(compgen -c -- "$cur"))
		fi ;;
	esac
}

complete -F _leasepool leasepool
