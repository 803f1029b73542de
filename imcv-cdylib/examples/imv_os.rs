//! `libimv_os.so`: the imv_os as an IF-IMV C plugin (see the crate README).

if_imv::export_imv!(imcv_cdylib::os_imv());
