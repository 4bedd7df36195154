# functions.sh - a stand-in for the parts of OpenWrt's /lib/functions.sh,
# /etc/rc.common and procd.sh that an init script uses, so that
# conf/openwrt/igdd.init runs on a build machine (tests/lab/t_openwrt.sh).
# Not OpenWrt's code: the same calls, kept small.
#
# UCI files are read from $UCI_DIR; procd_* calls are written to
# $PROCD_LOG, logger lines to $LOGGER_LOG.

# config_load NAME: parse $UCI_DIR/NAME (config/option/list lines, quoted
# or bare values, # comments) into CONFIG_<section>_<option> variables;
# anonymous sections get names cfgNN, in file order.
config_load() {
	CONFIG_SECTIONS=
	eval "$(awk -v q="'" '
		function val(s) {
			sub(/^[ \t]+/, "", s)
			if (s ~ /^'\''/) { sub(/^'\''/, "", s); sub(/'\''.*$/, "", s) }
			else if (s ~ /^"/) { sub(/^"/, "", s); sub(/".*$/, "", s) }
			else { sub(/[ \t]+#.*$/, "", s); sub(/[ \t]+$/, "", s) }
			gsub(q, q "\\" q q, s)
			return q s q
		}
		/^[ \t]*#/ || /^[ \t]*$/ { next }
		$1 == "config" {
			n++
			name = $3; gsub(/['\''"]/, "", name)
			if (name == "") name = sprintf("cfg%02d", n)
			sec = name
			printf "CONFIG_SECTIONS=\"$CONFIG_SECTIONS %s\"\n", sec
			printf "CONFIG_%s_TYPE=%s\n", sec, q $2 q
			next
		}
		$1 == "option" || $1 == "list" {
			opt = $2; rest = $0
			sub(/^[ \t]*(option|list)[ \t]+[^ \t]+/, "", rest)
			if ($1 == "option")
				printf "CONFIG_%s_%s=%s\n", sec, opt, val(rest)
			else
				printf "CONFIG_%s_%s=\"${CONFIG_%s_%s:+$CONFIG_%s_%s }\"%s\n", sec, opt, sec, opt, sec, opt, val(rest)
		}' "$UCI_DIR/$1")"
}

# config_get VAR SECTION OPTION [DEFAULT]
config_get() {
	eval "_v=\${CONFIG_$2_$3-}"
	[ -n "$_v" ] || _v=${4-}
	eval "$1=\$_v"
}

# config_get_bool VAR SECTION OPTION [DEFAULT]: 1 or 0
config_get_bool() {
	config_get _b "$2" "$3" "${4-}"
	case "$_b" in
	1|on|true|yes|enabled) _b=1 ;;
	0|off|false|no|disabled) _b=0 ;;
	*) _b=${4:-0} ;;
	esac
	eval "$1=\$_b"
}

# config_foreach FUNCTION [TYPE]: FUNCTION SECTION for each section (of TYPE)
config_foreach() {
	for _s in $CONFIG_SECTIONS; do
		eval "_t=\$CONFIG_${_s}_TYPE"
		[ -z "${2-}" ] || [ "$_t" = "$2" ] || continue
		"$1" "$_s"
	done
}

logger() {
	echo "logger $*" >>"$LOGGER_LOG"
}

procd_open_instance() { echo "open_instance" >>"$PROCD_LOG"; }
procd_set_param() { echo "set_param $*" >>"$PROCD_LOG"; }
procd_append_param() { echo "append_param $*" >>"$PROCD_LOG"; }
procd_close_instance() { echo "close_instance" >>"$PROCD_LOG"; }
procd_add_reload_trigger() { echo "reload_trigger $*" >>"$PROCD_LOG"; }
procd_add_raw_trigger() { echo "raw_trigger $*" >>"$PROCD_LOG"; }
