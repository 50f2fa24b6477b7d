import Testing

/// Every fixture is covered by a test above; a new file must be added here (and get a test).
@Test func everyFixtureIsClassified() throws {
    let identity: Set<String> = [
        "at_creg-urc-interleaved_hologram-test.txt", "at_fibocom-fm150_csq-cpin-cops-creg_4iceg-pr32.txt",
        "at_luat-air720_iccid-cimi-with-urcs_openluat-issue1.txt", "at_luat_iccid-hex_openluat-air780e.txt",
        "at_multitech_iccid-variants_multitech-kb.txt", "at_quectel-ec25_atinout-output_koshev-issue45.txt",
        "at_quectel-ep06_qccid-F_4iceg-issue111.txt", "at_quectel-rm500u_quectel-CM-log_forlinx.txt",
        "at_quectel-rm510q_cfun-reboot-urcs_pchat.txt", "at_quectel-rm510q_cimi-interleaved-cclk_pchat.txt",
        "at_quectel-rm510q_cops_pchat.txt", "at_sierra-wp7702_ccid-cgsn-ati_octaveorp.txt",
        "at_sierra_crsm-swapped-and-iccid_nm-list-2013-07.txt",
        "at_simcom-a7670e_no-sim_lilygo-t-internet-com-issue24.txt",
        "at_simcom-sim7600_manual-v1.12_ciccid-csq.txt", "at_simcom-sim7600e-h_ati-csq-cpsi_note.txt",
        "at_simcom-sim800_cpin-error-vs-verbose_lilygo-issue33.txt",
        "at_simcom-sim868_ccid-bare-lowercase-f_tinygsm-issue336.txt",
        "at_simcom_cgsn-gsn-quoted_tinygsm-issue444.txt", "at_synthetic_mm-gsm-port.conf", "at_telit_examples.txt",
        "at_ublox_examples.txt", "log_quectel-eg25_qccid-F_openpilot-pr38021.txt",
        "mbimcli_dw5821e_journald_lte-modem-starter.txt", "mbimcli_subscriber-ready_other-real-logs.txt",
        "mm-test-vectors_iccid-crsm.txt", "mmcli-K-sim_keyvalue_scs-core.txt", "mmcli-L-J_iqrf.json",
        "mmcli-L-and-m_human_two-objects_mm-commit-592f8b63.txt", "mmcli-L_human_no-modems_geerlingguy-issue366.txt",
        "mmcli-i-J_emnify-sim_orb.json", "mmcli-i_human_mm-commit-9e785e14.txt", "mmcli-m-J_iqrf_connected-3g.json",
        "mmcli-m-J_iqrf_connected.json", "mmcli-m-J_iqrf_searching.json", "mmcli-m-J_iqrf_without-sim.json",
        "mmcli-m-J_telit-le910c4-wwxd_connected_orb.json", "mmcli-m_human_failed-sim-missing_openwrt-luci-3586.txt",
        "mmcli-m_human_quectel-eg916q_commaai-vamos-pr57.txt",
        "qmicli_dms-get-ids_pre-1.24-format_libqmi-test-comment.txt",
        "qmicli_rm510q_card-status_dms-get-ids_pchat.txt", "qmicli_uim-get-slot-status_comment_eve.txt",
        "qmicli_uim-read-transparent-imsi_turris-omnia.txt",
    ]
    // No identity in them: tested to yield none without failing.
    let noIdentity: Set<String> = [
        "at_quectel-ec200t_qeng_4iceg-issue43.txt", "at_sierra-em7455_lteinfo-gstatus_danielewood.txt",
        "mmcli-location-get-J_orb.json", "mmcli-signal-get-J_decimal-comma_iqrf.json",
        "mmcli-signal-get-J_not-polling_iqrf.json", "mmcli-signal-get-J_telit_orb.json",
    ]
    let names = try Fixtures.allNames()
    #expect(names.count == 49)
    let unclassified = names.filter { !identity.contains($0) && !noIdentity.contains($0) }
    #expect(unclassified.isEmpty, "unclassified fixtures: \(unclassified)")
    #expect(identity.isDisjoint(with: noIdentity))
}
